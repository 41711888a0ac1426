import numpy as np
import pytest

from text_recognizer.datasets.sequence import DatasetSequence
from text_recognizer.preprocessing import ink_widths


def test_plain_batches_cover_every_row_once_and_reshuffle():
    x, y = np.arange(100)[:, None], np.arange(100)
    sequence = DatasetSequence(x, y, batch_size=32, shuffle=True)
    first = [sequence[i][1].tolist() for i in range(4)]
    assert len(sequence) == 4 and sorted(sum(first, [])) == list(range(100))
    second = [sequence[i][1].tolist() for i in range(4, 8)]  # A shuffled sequence runs on into the next epoch.
    assert second != first and sorted(sum(second, [])) == list(range(100))
    assert [sequence[i][1].tolist() for i in range(4)] == first  # Whenever it is read.
    sequence.start_at(1)
    assert [sequence[i][1].tolist() for i in range(4)] == second


def test_bucketed_batches_group_similar_keys_with_extremes_first():
    key = np.random.default_rng(0).permutation(1000)
    sequence = DatasetSequence(np.zeros((1000, 1)), key, batch_size=50, shuffle=True, sort_key=key)
    batches = [sequence[i][1] for i in range(len(sequence))]
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert max(np.ptp(b) for b in batches) < 250  # Each batch spans a narrow band of keys.
    assert batches[0].min() > 850 and batches[1].max() < 150  # Widest, then narrowest.


def test_sequences_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="x and y differ in length: 3 vs 2"):
        DatasetSequence(np.zeros((3, 1)), np.zeros(2), batch_size=2)


def test_ink_widths_find_the_last_ink_column():
    x = np.zeros((3, 4, 10), dtype=np.uint8)
    x[0, 1, 2], x[1, 3, 9] = 5, 7  # Line 2 is empty.
    assert ink_widths(x).tolist() == [3, 10, 0]
