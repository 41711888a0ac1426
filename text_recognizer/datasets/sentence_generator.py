"""Offline English-like text: Zipf-distributed common words, names, numbers and punctuation in word-aligned spans."""

from __future__ import annotations

import numpy as np

# Common English words, roughly by descending frequency; sampled with Zipf weights by rank.
COMMON_WORDS = """
the of and to a in that is was he for it with as his on be at by i had not are but from or have an they which
one you were her all she there would their we him been has when who will more no if out so said what up its about
into than them can only other new some could time these two may then do first any my now such like our over man
me even most made after also did many before must through back years where much your way well down should because
each just those people mr how too little state good very make world still own see men work long get here between
both life being under never day same another know while last might us great old year off come since against go
came right used take three states himself few house use during without again place american around however home
small found mrs thought went say part once general high upon school every does got united left number course war
until always away something fact though water less public put think almost hand enough far took head yet
government system better set told nothing night end why called didn't eyes find going look asked later knew point
next program city business give group toward young days let room president side social present given several order
national second possible rather per face among form important often things looked early white case john become
large big need four within felt along children saw best church ever least power development light thing seemed
family interest want members mind country area others done turned although open god service certain kind problem
began different door thus help sense means whole matter perhaps itself york it's times law human line above name
example action company hands local show whether five history gave today either act feet across taken past quite
anyone having seen death experience body word half really week free car field money brown foot minister labour
letter paper party morning table street office river music short stood clear voice read tomorrow press meeting
zero size quiz jazz box six oxford quick jump very vote
""".split()
NAMES = "Adenauer Brown Foot Gaitskell Griffiths Kennedy London Paris Russia Washington Mary Peter Laos Corsi".split()
PUNCT_AFTER = [",", ".", ";", ":", "?", "!", "'s", ")", '"']
PUNCT_BEFORE = ["(", '"', "'", "#"]
JOINERS = ["-", "/", "&", "+", "*"]


class SentenceGenerator:
    """Generates English-like text spans of at most `max_length` characters, cut at word boundaries.

    Args:
        max_length: longest span in characters (None: no limit).
        seed: seed of the random source.
    """

    def __init__(self, max_length: int | None = 34, seed: int = 0) -> None:
        self.max_length = max_length
        self.rng = np.random.default_rng(seed)
        weights = 1.0 / np.arange(1, len(COMMON_WORDS) + 1) ** 0.9
        self.word_p = weights / weights.sum()

    def word(self) -> str:
        """One token: a common word, sometimes a name, number or capitalized word, with occasional punctuation."""
        r = self.rng.random()
        if r < 0.05:
            token = str(self.rng.choice(NAMES))
        elif r < 0.10:
            token = self.number()
        else:
            token = str(self.rng.choice(COMMON_WORDS, p=self.word_p))
            if self.rng.random() < 0.12:
                token = token.capitalize() if self.rng.random() < 0.85 else token.upper()
        if self.rng.random() < 0.03:
            token += str(self.rng.choice(JOINERS)) + str(self.rng.choice(COMMON_WORDS, p=self.word_p))
        if self.rng.random() < 0.04:
            token = str(self.rng.choice(PUNCT_BEFORE)) + token
        if self.rng.random() < 0.14:
            token += str(self.rng.choice(PUNCT_AFTER, p=[0.4, 0.3, 0.05, 0.05, 0.06, 0.04, 0.04, 0.03, 0.03]))
        return token

    def number(self) -> str:
        """A year, count, price-like or time-like number."""
        kind = self.rng.integers(4)
        if kind == 0:
            return str(self.rng.integers(1900, 2030))
        if kind == 1:
            return str(self.rng.integers(0, 100))
        if kind == 2:
            return f"{self.rng.integers(1, 999)}.{self.rng.integers(0, 100):02d}"
        return f"{self.rng.integers(1, 13)}:{self.rng.integers(0, 60):02d}"

    def generate(self, max_length: int | None = None) -> str:
        """A span of words whose length is uniform-ish in [1, max_length], never cutting a word."""
        limit = max_length or self.max_length or 80
        target = int(self.rng.integers(1, limit + 1))
        words: list[str] = []
        while True:
            word = self.word()
            candidate = " ".join([*words, word])
            if len(candidate) > limit:
                break
            words.append(word)
            if len(candidate) >= target:
                break
        text = " ".join(words) or self.word()[:limit]
        if words and self.rng.random() < 0.3:
            text = text[0].upper() + text[1:]
        return text
