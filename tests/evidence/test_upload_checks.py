"""Uploads are checked by content: the client's name and Content-Type are never trusted."""
import io
import struct
import zlib

import pytest
from flask_babel import force_locale
from PIL import Image, ImageFile
from werkzeug.datastructures import FileStorage

from campaign.evidence.models import StoredFile
from campaign.evidence.services import (
    UploadError,
    clean_display_name,
    store_bytes,
    store_upload,
    thumbnail_path,
    upload_error_message,
)
from tests.evidence.conftest import (
    files_under,
    make_docx,
    make_jpeg,
    make_pdf,
    make_png,
    make_xlsx,
    make_zip,
)


def refusal(data, name="photo.jpg", **kwargs) -> UploadError:
    with pytest.raises(UploadError) as caught:
        store_bytes(data, name, **kwargs)
    return caught.value


def test_a_text_file_named_jpg_is_refused(db, upload_dir):
    error = refusal("森林防火，人人有责\n".encode(), "标牌.jpg")
    assert error.code == "bad_type"
    assert files_under(upload_dir) == []
    assert db.session.query(StoredFile).count() == 0


def test_a_truncated_jpeg_is_refused_as_damaged(db, upload_dir):
    photo = make_jpeg(size=(400, 300))
    error = refusal(photo[: len(photo) // 2])
    assert error.code == "corrupt_image"
    assert files_under(upload_dir) == []


def test_an_empty_file_is_refused(db, upload_dir):
    assert refusal(b"").code == "empty"
    assert files_under(upload_dir) == []


def test_a_file_over_the_per_file_limit_is_refused(app, db, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_MB", 1)
    error = refusal(make_pdf() + b"0" * (1024 * 1024))
    assert error.code == "too_large"
    assert error.details["limit_mb"] == 1
    assert files_under(upload_dir) == []


def test_a_file_at_the_limit_is_accepted(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_MB", 1)
    data = make_pdf().ljust(1024 * 1024, b"0")
    assert store_bytes(data, "plan.pdf").stored_file.size == 1024 * 1024


def test_the_default_limit_is_ten_megabytes(app, db, monkeypatch):
    monkeypatch.delitem(app.config, "MAX_FILE_MB", raising=False)
    assert refusal(make_pdf().ljust(10 * 1024 * 1024 + 1, b"0"), "plan.pdf").code == "too_large"


def test_an_upload_stream_is_read_only_up_to_the_limit(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_MB", 1)
    stream = io.BytesIO(make_pdf().ljust(5 * 1024 * 1024, b"0"))
    with pytest.raises(UploadError) as caught:
        store_upload(FileStorage(stream, filename="plan.pdf", content_type="application/pdf"))
    assert caught.value.code == "too_large"
    assert stream.tell() == 1024 * 1024 + 1


def test_a_zip_that_is_neither_word_nor_excel_is_refused(db):
    archive = make_zip({"[Content_Types].xml": "<Types/>", "readme.txt": "hello"})
    assert refusal(archive, "plan.docx").code == "bad_type"


def test_a_broken_zip_is_refused(db):
    assert refusal(b"PK\x03\x04" + b"\x00" * 200, "plan.xlsx").code == "bad_type"


def test_a_pdf_is_recognised_whatever_its_name_or_declared_type(db):
    stored = store_upload(FileStorage(io.BytesIO(make_pdf()), filename="plan.jpg", content_type="image/jpeg"))
    assert (stored.stored_file.kind, stored.stored_file.extension) == ("pdf", "pdf")
    assert stored.stored_file.content_type == "application/pdf"
    assert stored.original_name == "plan.jpg"


def test_a_docx_built_by_hand_is_recognised(db):
    stored = store_bytes(make_docx(), "实施方案.docx").stored_file
    assert (stored.kind, stored.extension) == ("docx", "docx")
    assert stored.content_type.endswith("wordprocessingml.document")


def test_an_xlsx_made_by_pandas_is_recognised(db):
    stored = store_bytes(make_xlsx(), "台账.xlsx").stored_file
    assert (stored.kind, stored.extension) == ("xlsx", "xlsx")
    assert stored.content_type.endswith("spreadsheetml.sheet")


def test_a_png_named_jpg_gets_the_png_type(db):
    stored = store_bytes(make_png(), "photo.jpg").stored_file
    assert (stored.kind, stored.extension, stored.content_type) == ("image", "png", "image/png")
    assert (stored.width, stored.height) == (40, 30)


def test_webp_is_accepted(db):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(buffer, "WEBP")
    assert store_bytes(buffer.getvalue(), "x.webp").stored_file.content_type == "image/webp"


def test_other_image_formats_are_refused(db):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(buffer, "BMP")
    assert refusal(buffer.getvalue(), "x.bmp").code == "bad_type"


def test_only_the_allowed_kinds_are_accepted(db):
    error = refusal(make_pdf(), "plan.pdf", allowed_kinds=("image",))
    assert error.code == "bad_type"
    assert error.details["allowed"] == ("image",)
    assert refusal(make_jpeg(), allowed_kinds=("pdf",)).code == "bad_type"


def png_header(width, height, color_type=2) -> bytes:
    """A PNG that claims width × height pixels but holds one row of data: what an attacker sends."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * (width * 3 + 1))) + chunk(b"IEND", b""))


def test_the_9400_pixel_square_png_is_refused_from_its_header_naming_the_limit(app, db, upload_dir, monkeypatch):
    def no_decoding(self):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    error = refusal(png_header(9400, 9400), "bomb.png")
    assert error.code == "image_too_large"
    assert error.details["limit_pixels"] == 31_457_280  # 120 MB decoded at 4 bytes a pixel
    assert files_under(upload_dir) == []
    with force_locale("zh_Hans_CN"):
        message = upload_error_message(error)
    assert message == ("bomb.png：图片为 9400 × 9400 像素（约8836万像素），超过3146万像素的上限。"
                       "请发送较小的照片，或把手机相机的分辨率调低后重拍。")


def test_an_image_beyond_pillows_own_limit_is_refused_with_the_limit(app, db):
    error = refusal(png_header(20_000, 20_000), "huge.png")
    assert error.code == "image_too_large"
    with force_locale("en"):
        assert "the limit of 40 million pixels" in upload_error_message(error)


def test_the_pixel_budget_is_a_setting(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 1200)
    assert store_bytes(make_png(size=(40, 30), mode="RGB"), "at-limit.png").stored_file.width == 40
    error = refusal(make_png(size=(41, 30), mode="RGB"), "over.png")
    assert (error.code, error.details["width"], error.details["height"]) == ("image_too_large", 41, 30)


def test_a_path_in_the_name_is_dropped_and_never_used_on_disk(db, upload_dir):
    stored = store_bytes(make_jpeg(), "../../etc/passwd.jpg")
    assert stored.original_name == "passwd.jpg"
    assert clean_display_name("C:\\Users\\张三\\Desktop\\标牌.jpg") == "标牌.jpg"
    assert clean_display_name("C:标牌.jpg") == "标牌.jpg"
    assert clean_display_name("..") == ""
    for path in files_under(upload_dir):
        assert "passwd" not in str(path)
        assert path.resolve().is_relative_to(upload_dir.resolve())


def test_control_characters_are_removed_from_the_name(db):
    assert clean_display_name("标\x00牌\u202egpj.exe\n照片.jpg") == "标牌gpj.exe 照片.jpg"


def test_a_ten_thousand_character_name_is_shortened_keeping_its_extension(db):
    stored = store_bytes(make_jpeg(), "宣" * 10_000 + ".jpg")
    assert len(stored.original_name) == 120
    assert stored.original_name.endswith("宣.jpg")


def test_a_chinese_name_is_kept_for_display(db):
    assert store_bytes(make_jpeg(), "夏禹桥村 宣传标牌（一）.jpg").original_name == "夏禹桥村 宣传标牌（一）.jpg"


def test_a_file_without_a_usable_name_gets_one_from_its_kind(db):
    assert store_bytes(make_pdf(), "../").original_name == "pdf.pdf"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UploadError("empty", name="a.jpg"), "a.jpg：文件是空的"),
        (UploadError("too_large", name="a.pdf", limit_mb=10), "超过 10 MB"),
        (UploadError("bad_type", name="a.txt", allowed=("image", "pdf")), "PDF"),
        (UploadError("corrupt_image", name="a.jpg"), "照片无法读取"),
        (UploadError("missing"), "未选择文件"),
    ],
)
def test_refusals_read_in_chinese(app, error, expected):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert expected in upload_error_message(error)


def test_refusals_read_in_english(app):
    with app.test_request_context(), force_locale("en"):
        message = upload_error_message(UploadError("bad_type", name="a.txt", allowed=("image", "pdf")))
    assert message == "a.txt: This kind of file is not accepted. Accepted: photos (JPEG, PNG, WebP), PDF."


def test_a_form_sent_without_a_file_is_refused_as_missing(db):
    for file_storage in (None, FileStorage(io.BytesIO(b""), filename="")):
        with pytest.raises(UploadError) as caught:
            store_upload(file_storage)
        assert caught.value.code == "missing"


def test_a_large_transparent_png_becomes_a_white_backed_thumbnail_of_its_shape(db, upload_dir):
    image = Image.new("RGBA", (2600, 700), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 1300, 700))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    stored = store_bytes(buffer.getvalue(), "wide.png").stored_file
    assert (stored.width, stored.height) == (2600, 700)
    with Image.open(thumbnail_path(stored)) as thumbnail:
        assert thumbnail.size == (320, 86)
        red, white = thumbnail.getpixel((40, 40)), thumbnail.getpixel((280, 40))
    assert red[0] > 180 and red[1] < 40 and red[2] < 40
    assert min(white) > 240


def test_formats_decoded_whole_get_the_pixels_their_decoded_size_allows(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_DECODED_MB", 1)  # PNG: 262,144 pixels; WebP: 65,536
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), "green").save(buffer, "WEBP")
    error = refusal(buffer.getvalue(), "wechat.webp")
    assert (error.code, error.details["limit_pixels"]) == ("image_too_large", 65_536)
    assert store_bytes(make_png(size=(500, 500), mode="RGB"), "screen.png").stored_file.width == 500
    assert refusal(make_png(size=(600, 500), mode="RGB"), "screen.png").code == "image_too_large"
    assert store_bytes(make_jpeg(size=(2000, 1500)), "photo.jpg").stored_file.width == 2000
