import numpy as np

from text_recognizer.line_maps import (
    DETECTION_SIZE,
    MAX_DETECTION_SIZE,
    core_band,
    detection_size,
    line_maps,
    line_pitch,
    polygon_mask,
)
from text_recognizer.line_regions import line_masks, line_regions_of_maps, match_lines


def box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def test_core_band_keeps_the_middle_rows_of_each_column():
    mask = polygon_mask(box(10, 100, 200, 139))  # 40 rows.
    core = core_band(mask)
    rows = np.flatnonzero(core.any(axis=1))
    assert (rows[0], rows[-1]) == (112, 127)
    assert core[:, 10:201].any(axis=0).all() and not core[:, 202:].any()


def test_touching_lines_are_parted_between_their_cores():
    lines = [box(20, 100, 400, 140), box(30, 132, 380, 172), box(20, 166, 300, 206)]  # Each overlaps the next.
    maps = line_maps(lines).astype(np.float32)
    masks = line_masks(maps)
    assert len(masks) == 3
    assert match_lines([region.polygon for region in line_regions_of_maps(maps, maps.shape[:2])], lines) == 3
    tops = [np.flatnonzero(mask.any(axis=1))[0] for mask in masks]
    assert tops == sorted(tops)  # Top to bottom.


def test_pieces_of_one_line_merge_and_specks_are_dropped():
    maps = line_maps([box(20, 100, 150, 130), box(180, 102, 400, 132)]).astype(np.float32)  # A wide word gap.
    maps[300:302, 300:303] = 1.0  # A speck: 6 pixels.
    masks = line_masks(maps)
    assert len(masks) == 1
    assert masks[0][:, 20:151].any(axis=0).all() and masks[0][:, 180:401].any(axis=0).all()


def test_regions_are_in_the_pixels_of_the_input_image():
    maps = line_maps([box(40, 100, 200, 130)]).astype(np.float32)
    (region,) = line_regions_of_maps(maps, (DETECTION_SIZE * 2, DETECTION_SIZE))  # A page twice as tall as wide.
    x0, y0, x1, y1 = region.box
    assert abs(x0 - 80) <= 2 and abs(y0 - 200) <= 2 and abs(x1 - 402) <= 4 and abs(y1 - 262) <= 4
    low, high = region.polygon.min(axis=0), region.polygon.max(axis=0)  # The outline hugs the line, scaled alike.
    assert (np.abs(low - [80, 200]) <= 2).all() and (np.abs(high - [402, 262]) <= 4).all()


def test_an_empty_map_has_no_lines():
    assert line_masks(np.zeros((DETECTION_SIZE, DETECTION_SIZE, 2), dtype=np.float32)) == []


def test_matching_counts_each_true_line_once():
    true = [box(20, 100, 400, 140)]
    halves = [box(20, 100, 180, 140), box(240, 100, 400, 140)]
    assert match_lines(halves, true) == 0  # Each part overlaps it at IoU below 0.5.
    assert match_lines([true[0], true[0]], true) == 1


def lined_page(height: int, width: int, tops: list[int], line_height: int, inks: list[int] | None = None) -> np.ndarray:
    ink = np.zeros((height, width), dtype=np.uint8)
    for top, level in zip(tops, inks or [255] * len(tops), strict=True):
        ink[top : top + line_height, width // 10 : -width // 10] = level
    return ink


def striped_page(height: int, width: int, pitch: int, line_height: int) -> np.ndarray:
    return lined_page(height, width, list(range(pitch // 2, height - line_height, pitch)), line_height)


def test_line_pitch_is_the_distance_between_lines():
    assert line_pitch(striped_page(3000, 2000, 30, 12), 100) == 30
    assert line_pitch(striped_page(1000, 800, 57, 20), 60) == 57
    assert line_pitch(striped_page(1000, 800, 57, 20), 30) is None  # Farther apart than asked.
    assert line_pitch(np.zeros((1000, 800), dtype=np.uint8), 60) is None
    noise = (np.random.default_rng(0).random((1000, 800)) < 0.05).astype(np.uint8) * 255
    assert line_pitch(noise, 60) is None  # Ink without regular lines.


def test_line_pitch_holds_where_lines_alternate_or_wander():
    tops = list(range(20, 1980, 40))
    faint_every_other = lined_page(2000, 1400, tops, 14, [255 if i % 2 else 60 for i in range(len(tops))])
    assert line_pitch(faint_every_other, 100) == 40  # Not 80, where its ink repeats best.
    shifts = np.random.default_rng(0).integers(-8, 9, len(tops))
    wandering = [top + int(shift) for top, shift in zip(tops, shifts, strict=True)]
    assert 36 <= (line_pitch(lined_page(2000, 1400, wandering, 14), 100) or 0) <= 44
    assert detection_size(lined_page(2000, 1400, wandering, 14)) > DETECTION_SIZE


def test_dense_pages_are_detected_larger_so_that_their_lines_lie_apart():
    assert detection_size(striped_page(1400, 1000, 60, 20)) == DETECTION_SIZE  # 22 px apart at 512: as trained.
    assert detection_size(striped_page(2000, 1400, 40, 15)) == 1600  # 10 px apart at 512; 32 px at 1600.
    assert detection_size(striped_page(3500, 2400, 12, 5)) == MAX_DETECTION_SIZE
    assert detection_size(striped_page(900, 600, 10, 4)) == 912  # Never beyond the page's own size.


def test_polygons_match_at_full_resolution():
    line = np.array([[100, 1000], [2000, 1000], [2000, 1030], [100, 1030]], dtype=float)
    neighbour = line + [0, 34]
    assert match_lines([line, neighbour], [line + [0, 3], neighbour]) == 2
    assert match_lines([line + [0, 20]], [line, neighbour]) == 0  # Across two lines: matches neither.
    assert match_lines([], [line]) == 0
