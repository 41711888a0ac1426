import io

import numpy as np
import pytest
from PIL import Image

from text_recognizer.preprocessing import (
    MAX_LINE_ASPECT,
    _border_plane,
    character_input,
    ink_bbox,
    line_input,
    load_image,
    open_image,
    to_ink,
)


def dark_on_light(shape=(60, 40), box=(10, 50, 15, 25)) -> np.ndarray:
    image = np.full(shape, 240, dtype=np.uint8)
    r0, r1, c0, c1 = box
    image[r0:r1, c0:c1] = 20
    return image


def test_dark_ink_on_paper_becomes_white_on_black():
    ink = to_ink(dark_on_light())
    assert ink[0, 0] == 0.0 and ink[30, 20] == 1.0


def test_both_polarities_give_the_same_ink():
    image = dark_on_light()
    assert np.allclose(to_ink(image), to_ink(255 - image))


def test_character_input_centres_longest_side_at_24_pixels():
    x = character_input(dark_on_light())  # A 40×10 bar: tall, so 24 px high and 6 px wide.
    assert x.shape == (28, 28) and x.dtype == np.uint8
    assert ink_bbox(x / 255.0, 0.5) == (2, 26, 11, 17)


@pytest.mark.parametrize(
    "variant",
    [
        lambda a: a,
        lambda a: a.astype(np.float32) / 255.0,
        lambda a: np.stack([a] * 3, axis=-1),
        lambda a: np.stack([a] * 4, axis=-1),
        lambda a: Image.fromarray(a),
        lambda a: Image.fromarray(a).convert("RGB"),
    ],
)
def test_input_kinds_agree(variant):
    reference = character_input(dark_on_light())
    assert np.abs(character_input(variant(dark_on_light())).astype(int) - reference).max() <= 1


PAPER, INK = 235, 30


def page_of_one_block() -> np.ndarray:
    image = np.full((40, 60), PAPER, dtype=np.uint8)
    image[10:30, 20:40] = INK
    return image


def as_mode(mode: str) -> Image.Image:
    """The page in a PIL mode, made as Pillow converts to it (16-bit: each level times 257)."""
    image = Image.fromarray(page_of_one_block())
    if mode == "I;16":
        return Image.fromarray(page_of_one_block().astype(np.uint16) * 257)
    return image.convert("RGB").convert(mode) if mode == "CMYK" else image.convert(mode)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_every_pil_mode_reads_as_the_same_gray_page(mode):
    image = as_mode(mode)
    assert image.mode == mode
    assert np.array_equal(load_image(image), page_of_one_block())


@pytest.mark.parametrize(
    "variant",
    [
        lambda a: a.astype(np.uint16) * 257,
        lambda a: a.astype(np.int32),
        lambda a: a.astype(np.int32) * 257,  # Pillow's 32-bit mode, read from a 16-bit file.
        lambda a: a / 255.0,
        lambda a: a.astype(np.float32),
        lambda a: np.stack([a, np.full_like(a, 255)], axis=-1),
        lambda a: np.stack([a / 255.0] * 3 + [np.ones(a.shape)], axis=-1),
    ],
)
def test_every_array_dtype_reads_as_the_same_gray_page(variant):
    assert np.array_equal(load_image(variant(page_of_one_block())), page_of_one_block())


def test_values_are_read_by_dtype_not_guessed():
    mask = (page_of_one_block() > 128).astype(np.uint8)  # 0 and 1: nearly black, as uint8 means.
    assert load_image(mask).max() == 1
    assert np.array_equal(load_image(mask.astype(bool)), mask * 255)  # True is white, as in Pillow's mode "1".
    assert np.array_equal(load_image(Image.fromarray(mask.astype(bool))), mask * 255)


def test_sixteen_bit_files_read_as_their_eight_bit_page(tmp_path):
    for name in ("page.tif", "page.png"):
        as_mode("I;16").save(tmp_path / name)
        with Image.open(tmp_path / name) as image:
            assert image.mode.startswith("I")  # Pillow keeps all 16 bits.
        assert np.array_equal(load_image(tmp_path / name), page_of_one_block())


@pytest.mark.parametrize("ink", [INK, 255 - INK])
def test_transparent_ground_becomes_paper_that_the_ink_stands_out_from(tmp_path, ink):
    cut_out = np.zeros((40, 60, 4), dtype=np.uint8)  # Fully transparent, black where nothing is drawn.
    cut_out[10:30, 20:40] = (ink, ink, ink, 255)
    Image.fromarray(cut_out).save(tmp_path / "cut_out.png")
    expected = to_ink(page_of_one_block())
    assert np.allclose(to_ink(load_image(tmp_path / "cut_out.png")), expected)
    palette = Image.fromarray(cut_out).convert("P")  # Transparency as a palette entry, as GIFs and small PNGs keep it.
    palette.info["transparency"] = palette.getpixel((0, 0))
    assert np.allclose(to_ink(load_image(palette)), expected)


def test_exif_orientation_is_applied(tmp_path):
    upright = Image.fromarray(page_of_one_block()).convert("RGB")
    upright.paste((INK, INK, INK), (0, 0, 8, 8))  # A corner mark: a wrong turn moves it.
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # As a phone held sideways stores it,
    exif = Image.Exif()
    exif[0x0112] = 6  # with the turn that shows it upright (90 degrees clockwise).
    stored.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    read = load_image(tmp_path / "photo.jpg")
    assert read.shape == (40, 60)
    assert np.abs(read.astype(int) - np.asarray(upright.convert("L"))).max() < 16  # JPEG's loss only.


def test_path_input(tmp_path):
    Image.fromarray(dark_on_light()).save(tmp_path / "c.png")
    assert np.array_equal(character_input(tmp_path / "c.png"), character_input(dark_on_light()))


def test_blank_image_gives_blank_input():
    assert character_input(np.full((30, 30), 200, dtype=np.uint8)).max() == 0


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((0, 5)), "shape"),
        (np.zeros((2, 3, 4, 5)), "shape"),
        (np.full((4, 4), np.nan), "NaN"),
        ("no/such/file.png", "No image file"),
        (42, "Expected a path"),
    ],
)
def test_bad_inputs_are_explained(image, message):
    with pytest.raises(ValueError, match=message):
        load_image(image)


def test_undecodable_data_is_explained_in_a_plain_sentence():
    with pytest.raises(ValueError) as error:
        open_image(io.BytesIO(b"not an image at all"))
    assert (
        str(error.value) == "Cannot read the data as an image: it is in no format Pillow reads (PNG, JPEG, TIFF, ...)"
    )


def test_corrupt_and_truncated_files_are_explained(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    Image.fromarray(dark_on_light((400, 400))).save(tmp_path / "ok.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "ok.png").read_bytes()[:200])
    for name in ("junk.png", "cut.png"):
        with pytest.raises(ValueError, match="Cannot read"):
            load_image(tmp_path / name)


def test_huge_image_is_refused(tmp_path):
    Image.new("L", (10_000, 5_000)).save(tmp_path / "huge.png")
    with pytest.raises(ValueError, match="exceeds"):
        load_image(tmp_path / "huge.png")


def test_paper_grain_is_not_ink_but_faint_strokes_are():
    paper = np.random.default_rng(0).normal(235, 4, (40, 200))
    assert not to_ink(paper.clip(0, 255).astype(np.uint8)).any()
    paper[15:25, 50:150:10] -= 40  # Faint pencil strokes, 40 gray levels darker.
    ink = to_ink(paper.clip(0, 255).astype(np.uint8))
    strokes = ink[15:25, 50:150:10]
    assert strokes.min() > 0.6 and np.median(strokes) > 0.9 and ink[:10].max() < 0.5


def strokes_on_paper() -> np.ndarray:
    """A 60×400 line of 30 vertical strokes, 4 px wide and 30 px tall, dark on paper."""
    image = np.full((60, 400), 235, dtype=np.uint8)
    for left in range(40, 340, 10):
        image[15:45, left : left + 4] = 30
    return image


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_page_edge_beside_the_line_is_not_read_as_ink(side):
    image = strokes_on_paper()
    edged = image.copy()
    band, border = (slice(0, 12), slice(12, 14)) if side == "left" else (slice(-12, None), slice(-14, -12))
    edged[:, band] = 60  # A scanner shadow along the whole side,
    edged[:, border] = 150  # with a softer border.
    assert np.array_equal(line_input(edged, 32), line_input(image, 32))


def test_writing_that_touches_a_side_is_kept():
    image = strokes_on_paper()
    image[5:55, :4] = 30  # A tall stroke against the left side, as in a tight crop: 50 of its 60 rows.
    ink = to_ink(image)
    assert ink[5:55, :4].min() > 0.7 and ink[:5, :4].max() == 0.0


def test_lighting_gradient_is_removed():
    rows, cols = np.mgrid[0:40, 0:300]
    paper = 250 - 0.5 * rows - 0.3 * cols  # Darker towards the bottom right, 250 → 141.
    paper[15:25, 100:200] -= 80
    ink = to_ink(paper.astype(np.uint8))
    assert ink[15:25, 100:200].min() > 0.95 and ink[:15].max() < 0.02 and ink[:, 210:].max() < 0.02


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2), (3, 9), (32, 641)])
def test_border_plane_is_the_least_squares_plane_of_the_border(shape):
    image = np.random.default_rng(sum(shape)).uniform(0, 255, shape).astype(np.float32)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    border = np.zeros(shape, dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    design = np.stack([np.ones(border.sum()), rows[border], cols[border]], axis=1)
    coef = np.linalg.lstsq(design, image[border], rcond=None)[0]
    assert np.allclose(_border_plane(image), coef[0] + coef[1] * rows + coef[2] * cols, atol=1e-3)


def test_extremely_wide_lines_are_squeezed_to_a_bounded_width():
    sliver = np.full((3, 40_000), 230, dtype=np.uint8)
    sliver[1, ::7] = 10
    assert line_input(sliver, 32).shape == (32, 32 * MAX_LINE_ASPECT)
