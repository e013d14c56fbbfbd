"""Status codes of the C API and the exceptions that carry them."""
import enum

from . import _native


class Status(enum.IntEnum):
    """The CBIR_* status codes of cbir.h (stable: never renumbered)."""
    OK = 0
    EINVAL = -1
    ENOMEM = -2
    EIO = -3
    ENOTFOUND = -4
    EEXIST = -5
    ECORRUPT = -6
    EMISMATCH = -7
    ELOCKED = -8
    EUNSUPPORTED = -9
    ECANCELLED = -10
    EMODEL = -11
    ECLOSED = -12
    EIMAGE_FORMAT = -20
    EIMAGE_TRUNCATED = -21
    EIMAGE_CORRUPT = -22
    EIMAGE_DIMENSIONS = -23
    EIMAGE_TOO_LARGE = -24
    EIMAGE_EMPTY = -25
    EINTERNAL = -99


class Error(Exception):
    """A failed cbir call: `code` (a Status, or the raw int for a code this binding does not
    know) and `message` (cbir's explanation, naming the file or argument at fault)."""

    def __init__(self, code, message):
        try:
            code = Status(code)
        except ValueError:
            pass
        self.code = code
        self.message = message
        name = code.name if isinstance(code, Status) else str(code)
        super().__init__(f"{message} [CBIR_{name}]" if message else f"CBIR_{name}")


class InvalidArgumentError(Error, ValueError):
    """CBIR_EINVAL: an argument is invalid (also a ValueError)."""


class OutOfMemoryError(Error, MemoryError):
    """CBIR_ENOMEM."""


class FileIOError(Error):
    """CBIR_EIO: the operating system refused a file operation."""


class NotFoundError(Error, LookupError):
    """CBIR_ENOTFOUND: a file, item or id does not exist (also a LookupError)."""


class ExistsError(Error):
    """CBIR_EEXIST: something that must be new already exists."""


class CorruptError(Error):
    """CBIR_ECORRUPT: stored data (bundle, collection) is damaged."""


class MismatchError(Error):
    """CBIR_EMISMATCH: model and collection (or vector) do not belong together."""


class LockedError(Error):
    """CBIR_ELOCKED: another process is writing to the collection."""


class UnsupportedError(Error):
    """CBIR_EUNSUPPORTED: not available in this build or for this object."""


class CancelledError(Error):
    """CBIR_ECANCELLED: stopped by the caller."""


class ModelError(Error):
    """CBIR_EMODEL: a model failed to load or produced invalid output."""


class ClosedError(Error):
    """CBIR_ECLOSED: the object was already closed."""


class ImageError(Error):
    """CBIR_EIMAGE_*: an image could not be decoded (format, truncated, corrupt, size)."""


_CLASSES = {
    Status.EINVAL: InvalidArgumentError, Status.ENOMEM: OutOfMemoryError,
    Status.EIO: FileIOError, Status.ENOTFOUND: NotFoundError, Status.EEXIST: ExistsError,
    Status.ECORRUPT: CorruptError, Status.EMISMATCH: MismatchError, Status.ELOCKED: LockedError,
    Status.EUNSUPPORTED: UnsupportedError, Status.ECANCELLED: CancelledError,
    Status.EMODEL: ModelError, Status.ECLOSED: ClosedError,
}


def error(code, message):
    """The exception for a status code."""
    if -25 <= code <= -20:
        return ImageError(code, message)
    return _CLASSES.get(code, Error)(code, message)


def check(status):
    """Raises the error of a failed call; its message is fetched on the same thread, straight
    after the call, as cbir_last_error() requires."""
    if status != 0:
        raise error(status, _native.text(_native.lib.cbir_last_error()))
