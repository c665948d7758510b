"""User-facing messages for refused uploads, keyed by UploadError.code."""
from flask_babel import lazy_gettext as _l

UPLOAD_ERROR_MESSAGES = {
    "missing": _l("No file was chosen."),
    "empty": _l("The file is empty. Choose it again; it may not have finished copying to the phone."),
    "too_large": _l("The file is larger than %(limit_mb)s MB, the limit for one file. Send a smaller file or a photo taken at a lower resolution."),
    "bad_type": _l("This kind of file is not accepted. Accepted: %(allowed)s."),
    "corrupt_image": _l("The photo could not be read: it is damaged or was only partly uploaded. Take or choose it again."),
    "image_too_large": _l("The image is %(width)s × %(height)s pixels (%(pixels)s pixels), over the limit of "
                          "%(limit)s pixels. Send a smaller photo, or take it again at a lower resolution."),
    "image_too_large_size_unknown": _l("The image has more pixels than the limit of %(limit)s pixels. Send a "
                                       "smaller photo, or take it again at a lower resolution."),
    "storage_failed": _l("The server could not save the file (its disk may be full). Nothing was added: "
                         "please try again later, and tell the county office if it happens again."),
}

FALLBACK_MESSAGE = _l("The file could not be accepted.")

# How a refusal names the file, e.g. "IMG_0001.jpg: the file is empty."
NAMED_MESSAGE = _l("%(name)s: %(message)s")

KIND_LABELS = {
    "image": _l("photos (JPEG, PNG, WebP)"),
    "pdf": _l("PDF"),
    "docx": _l("Word documents (DOCX)"),
    "xlsx": _l("Excel workbooks (XLSX)"),
}

KIND_SEPARATOR = _l(", ")


class UploadError(ValueError):
    """A refused upload; ``code`` picks the message, ``details`` fill its placeholders."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details
