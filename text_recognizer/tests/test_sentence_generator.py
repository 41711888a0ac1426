import pytest

from text_recognizer.datasets import sentence_generator
from text_recognizer.datasets.sentence_generator import SentenceGenerator
from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset
from text_recognizer.line_codec import LINE_HEIGHT, MAPPING, decode
from text_recognizer.line_codec import SYNTHETIC_LINE_WIDTH as LINE_WIDTH

# Two tagged sentences in the Brown corpus's own format (word/tag, one sentence per paragraph).
BROWN_CA01 = (
    "\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn "
    "of/in ``/`` irregularities/nns ''/'' took/vbd place/nn ./.\n"
    "\n\n\tIt/pps cost/vbd $5/nns ,/, the/at jury/nn said/vbd ;/. Atlanta's/np$ voters/nns agreed/vbd ./.\n"
)
BROWN_TEXT = (
    'The Fulton County Grand Jury said Friday an investigation of "irregularities" took place. '
    "It cost 5, the jury said; Atlanta's voters agreed."
)


@pytest.fixture
def brown_corpus(data_root):
    """The corpus installed where NLTK's downloader puts it."""
    corpus = data_root / "raw" / "nltk_data" / "corpora" / "brown"
    corpus.mkdir(parents=True)
    (corpus / "ca01").write_text(BROWN_CA01)
    (corpus / "cats.txt").write_text("ca01 news\n")
    return corpus


def test_sentences_are_word_aligned_within_length_and_cover_the_mapping():
    generator = SentenceGenerator(max_length=34, seed=0)
    texts = [generator.generate() for _ in range(3000)]
    assert all(0 < len(t) <= 34 and t == t.strip() and "  " not in t for t in texts)
    assert set("".join(texts)) == set(MAPPING) - {"_"}
    assert SentenceGenerator(34, seed=5).generate() == SentenceGenerator(34, seed=5).generate()


def test_brown_corpus_spans_are_cut_from_its_running_text(brown_corpus):
    generator = SentenceGenerator(max_length=20, seed=0, corpus="brown")
    spans = [generator.generate() for _ in range(200)]
    assert generator.running_text == tuple(BROWN_TEXT.split())
    wrapped = f"{BROWN_TEXT} {BROWN_TEXT}"
    assert all(0 < len(span) <= 20 and f" {span} " in f" {wrapped} " for span in spans)
    assert len(set(spans)) > 20


def test_brown_corpus_download_failure_is_clear(file_server, data_root, monkeypatch):
    monkeypatch.setattr(sentence_generator, "NLTK_INDEX_URL", f"{file_server.url}/index.xml")
    with pytest.raises(RuntimeError, match="Cannot download the Brown corpus from http://127.0.0.1:.*/index.xml"):
        SentenceGenerator(corpus="brown")
    assert not (data_root / "raw" / "nltk_data" / "corpora" / "brown").exists()


def test_unknown_corpus_is_refused():
    with pytest.raises(ValueError, match="Unknown corpus 'gutenberg'; choose one of wordfreq, brown"):
        SentenceGenerator(corpus="gutenberg")


def test_synthetic_lines_can_be_written_from_the_brown_corpus(brown_corpus):
    dataset = SyntheticLinesDataset(num_train=4, num_test=2, max_length=20, corpus="brown")
    dataset.load_or_generate_data()
    assert dataset.data_version.endswith(f"-s0-brown-{LINE_HEIGHT}x{LINE_WIDTH}")
    wrapped = f" {BROWN_TEXT} {BROWN_TEXT} "
    assert all(f" {decode(y)} " in wrapped for y in dataset.y_train)
    with pytest.raises(ValueError, match="Unknown corpus 'brwn'"):
        SyntheticLinesDataset(corpus="brwn")
