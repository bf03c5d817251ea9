"""Extract and check the LoRA from a trainer's output tar."""

import gzip
import json
import lzma
import shutil
import struct
import tarfile
import tempfile
import zlib

LORA_NAMES = ("lora.safetensors", "flux_train_replicate.safetensors")  # older trainer versions use the second
MAX_HEADER_BYTES = 100 * 1024 * 1024


class WeightsError(Exception):
    pass


def extract_lora(stream, *, max_bytes: int):
    """Find the LoRA in a (streamed) tar; returns a rewound temporary file. Raises WeightsError."""
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                if member.isfile() and member.name.rsplit("/", 1)[-1] in LORA_NAMES:
                    if member.size > max_bytes:
                        raise WeightsError(f"The LoRA file is {member.size} bytes, over the {max_bytes} limit.")
                    member_file = tar.extractfile(member)
                    if member_file is None:  # isfile() says it has contents
                        raise WeightsError("The trainer's output holds an unreadable lora.safetensors.")
                    lora = tempfile.TemporaryFile()
                    shutil.copyfileobj(member_file, lora, 1024 * 1024)
                    lora.seek(0)
                    check_safetensors(lora)
                    return lora
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as exc:
        # Truncated or corrupt archives, compressed or not.
        raise WeightsError(f"The trainer's output is not a readable tar file: {exc}") from exc
    raise WeightsError("The trainer's output holds no lora.safetensors.")


def check_safetensors(fileobj) -> dict:
    """Check the safetensors layout (u64 header length, JSON header, data); returns the header."""
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    prefix = fileobj.read(8)
    if len(prefix) != 8:
        raise WeightsError("The LoRA file is too short to be safetensors.")
    (header_length,) = struct.unpack("<Q", prefix)
    if header_length > min(MAX_HEADER_BYTES, size - 8):
        raise WeightsError("The LoRA file is not safetensors (bad header length).")
    try:
        header = json.loads(fileobj.read(header_length))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError("The LoRA file is not safetensors (bad header).") from exc
    if not isinstance(header, dict) or not header:
        raise WeightsError("The LoRA file is not safetensors (bad header).")
    data_size = size - 8 - header_length
    tensors = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            if not isinstance(tensor, dict):
                raise WeightsError("The LoRA file is not safetensors (bad metadata).")
            continue
        if not _is_tensor_entry(tensor):
            raise WeightsError(f"The LoRA file is not safetensors (bad entry for {str(name)[:60]!r}).")
        if tensor["data_offsets"][1] > data_size:
            raise WeightsError("The LoRA file is truncated.")
        tensors += 1
    if not tensors:
        raise WeightsError("The LoRA file holds no tensors.")
    fileobj.seek(0)
    return header


def _is_tensor_entry(tensor) -> bool:
    """{"dtype": str, "shape": [ints >= 0], "data_offsets": [begin, end]} with 0 <= begin <= end."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("dtype"), str):
        return False
    shape, offsets = tensor.get("shape"), tensor.get("data_offsets")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        return False
    return (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
        and 0 <= offsets[0] <= offsets[1]
    )
