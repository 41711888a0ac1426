import numpy as np
import pytest

from text_recognizer.ctc import greedy_decode, word_beam_search
from text_recognizer.english import WordModel
from text_recognizer.line_codec import MAPPING, blank_index

BLANK = blank_index(MAPPING)


@pytest.fixture(scope="module")
def words():
    return WordModel()


def line_logits(steps: list[dict[str, float]]) -> np.ndarray:
    """Logits of a line: per step, the probabilities of some characters ("_" is the blank); the rest share 1e-4."""
    probs = np.full((len(steps), len(MAPPING)), 1e-4)
    for row, step in zip(probs, steps, strict=True):
        for char, p in step.items():
            row[MAPPING.index(char)] = p
    return np.log(probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


def spelled(text: str) -> list[dict[str, float]]:
    """Certain steps spelling `text`, a blank after each character."""
    return [step for char in text for step in ({char: 1.0}, {"_": 1.0})]


def test_word_scores_follow_english_frequency(words):
    assert words.token_score("the") > words.token_score("house") > words.token_score("tbe")
    assert words.token_score("The,") == words.token_score("the") == words.token_score('"THE')
    assert words.token_score("tractor's") == words.token_score("tractor")  # No "tractor's" in the vocabulary.
    assert words.token_score("well-known") == pytest.approx(words.token_score("well") + words.token_score("known"))
    assert words.token_score("12:30") == words.token_score("1953") == words.weight * words.number_log_prob + 4.5
    assert words.token_score("") == words.token_score("xqzv")  # A doubled space costs an unknown word.


def test_unfinished_words_are_penalized_only_off_the_vocabulary(words):
    assert words.prefix_score("hou") == words.prefix_score('("Th') == words.prefix_score("19") == 0.0
    assert words.prefix_score("hqx") == words.prefix_score("well-hqx") == words.off_prefix_penalty


def test_word_beam_search_prefers_the_english_word_greedy_misreads(words):
    # "tbe cat": at the second step the recognizer slightly prefers "b" to "h".
    logits = line_logits([*spelled("t"), {"b": 0.55, "h": 0.45}, {"_": 1.0}, *spelled("e cat")])
    ((greedy, _),) = greedy_decode(logits[None], np.array([len(logits)]), BLANK)
    assert "".join(MAPPING[i] for i in greedy) == "tbe cat"
    text, confidence = word_beam_search(logits, MAPPING, BLANK, words)
    assert text == "the cat"
    # The recognizer's probability of "the cat" (0.45 at one step, about 1 elsewhere) per step.
    assert confidence == pytest.approx(0.45 ** (1 / len(logits)), rel=0.01)


def test_word_beam_search_keeps_clear_text_outside_the_vocabulary(words):
    logits = line_logits(spelled("Qzx 7:45 ok"))
    assert word_beam_search(logits, MAPPING, BLANK, words)[0] == "Qzx 7:45 ok"


def test_word_beam_search_merges_repeats_only_without_a_blank_between(words):
    logits = line_logits([{"l": 1.0}, {"l": 1.0}, {"_": 1.0}, {"l": 1.0}, *spelled("y")])
    assert word_beam_search(logits, MAPPING, BLANK, words) == ("lly", pytest.approx(1.0, abs=0.01))
    assert word_beam_search(logits[:0], MAPPING, BLANK, words) == ("", 1.0)
