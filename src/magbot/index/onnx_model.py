"""The ONNX backend: the bundled model exported once to ONNX, then run by onnxruntime without torch.

The export (PyTorch's ONNX exporter) runs in a child process, ``python -m magbot.index.onnx_model``, so
the process that serves never imports torch, even on the first start. The file is cached in the model
cache folder (``MAGBOT_MODEL_CACHE_DIR``, default ``<data dir>/models``) under a name made from a hash of
the model's files and of this export recipe; a lock lets several workers starting at once export it once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from magbot._errors import ConfigError
from magbot.index.embed import DIMENSIONS, MODEL_NAME, Embedder, offline_environment, source_hash

log = logging.getLogger(__name__)

__all__ = ["OnnxEmbedder", "export", "model_calls"]

EXPORT_RECIPE = "torch.onnx-opset17-ortext-v2"  # change when the export below changes: the file name follows it
EXPORT_TIMEOUT = 900.0  # seconds
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_MODEL_FILE = "model.onnx"  # the graph; its weights are in model.onnx.data beside it


def export(model_dir: Path, dest: Path) -> None:
    """Write the transformer of ``model_dir`` to ``dest`` as ONNX (token vectors; pooling is done here)."""
    offline_environment()
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # Trace with padding in the batch, so the graph keeps the attention-mask path that padded batches need.
    ids = torch.tensor([[101, 2054, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            TokenVectors(model),
            (ids, mask, torch.zeros_like(ids)),
            str(dest),
            input_names=list(_INPUTS),
            output_names=["token_vectors"],
            dynamic_axes={name: axes for name in (*_INPUTS, "token_vectors")},
            opset_version=17,
            dynamo=False,
        )


def _export_in_child(model_dir: Path, dest: Path, int8: bool) -> None:
    """Export into a folder next to ``dest`` and rename it into place: a model is there whole or not at all."""
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.partial")
    started = time.monotonic()
    log.info("exporting the embedding model to ONNX once (a few seconds): %s", dest)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "magbot.index.onnx_model", str(model_dir), str(tmp), "int8" if int8 else "fp32"],
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(f"exporting the embedding model to ONNX took over {EXPORT_TIMEOUT:.0f} s") from exc
    if done.returncode != 0 or not (tmp / _MODEL_FILE).is_file():
        shutil.rmtree(tmp, ignore_errors=True)
        lines = [ln for ln in (done.stderr or "").splitlines() if ln.strip()]
        raise ConfigError(f"exporting the embedding model to ONNX failed: {lines[-1] if lines else done.returncode}")
    tmp.replace(dest)
    log.info("exported in %.1f s", time.monotonic() - started)


class OnnxEmbedder(Embedder):
    """all-MiniLM-L6-v2 on onnxruntime: tokenizers, the exported transformer, mean pooling, L2 norm."""

    backend = "onnx"
    variant = EXPORT_RECIPE

    def __init__(
        self, model_dir: Path | None = None, cache_dir: Path | None = None, threads: int = 0, int8: bool = False
    ) -> None:
        super().__init__(model_dir, cache_dir)
        self.threads = threads
        self.int8 = int8
        if int8:  # weights stored as 8-bit integers: a different model, with its own index
            self.backend = "onnx-int8"

    @property
    def onnx_path(self) -> Path:
        """The exported graph (``model.onnx``) in a folder named by the model's hash, recipe and precision."""
        digest = source_hash(self.model_dir, self.cache_dir)[:16]
        kind = "int8" if self.int8 else "fp32"
        return self.cache_dir / f"{MODEL_NAME}-{digest}-{EXPORT_RECIPE}-{kind}" / _MODEL_FILE

    def ensure_exported(self) -> Path:
        path = self.onnx_path
        if path.is_file():
            return path
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with (self.cache_dir / ".export.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be exporting the same model
                if not path.is_file():
                    _export_in_child(self.model_dir, path.parent, self.int8)
        except OSError as exc:
            raise ConfigError(f"cannot write the ONNX model to {self.cache_dir}: {exc}") from exc
        return path

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = self.ensure_exported()
        config = _sentence_config(self.model_dir)
        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=int(config.get("max_seq_length", 256)))
        pad_id = tokenizer.token_to_id("[PAD]")
        tokenizer.no_padding()  # the file's own setting pads to a fixed length; each run pads to its longest
        self._pad_id = 0 if pad_id is None else pad_id
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False  # the arena keeps the peak of every batch size for good
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            raise ConfigError(f"cannot load the ONNX model {path} ({exc}); delete it to export it again") from exc
        log.info("loaded embedding model (onnxruntime, %s threads) from %s", self.threads or "default", path)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)  # unpadded: each group is padded to its own longest
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for group in model_calls([len(e.ids) for e in encoded], batch_size):
            out[group] = self._run([encoded[i] for i in group])
        return out

    def _run(self, encoded: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encoded)
        ids = np.full((len(encoded), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        tokens = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = pooled / np.clip(norms, 1e-12, None)
        return result


# What one run of the model costs beyond the tokens it reads, in tokens: on a CPU a run of a short text is
# mostly reading the model's weights (about 4.5 ms on 2 CPUs, against about 0.2 ms for each further token of
# each text in the batch, padding included; onnxruntime, one thread). Anywhere from 12 to 40 gave the same
# speed on the dev questions.
CALL_COST_TOKENS = 24


def model_calls(lengths: list[int], max_rows: int, call_cost: float = CALL_COST_TOKENS) -> list[list[int]]:
    """The texts (by position) to embed together in each run of the model, so that the runs cost least.

    A batch is padded to its longest text, so a question embedded with a few single words pays for each word
    as if it were as long as the question; a second run costs ``call_cost`` tokens more. Texts sorted by
    length are cut into consecutive groups of at most ``max_rows`` (the cheapest cut, found exactly).
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: the cheapest cost of the first j texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - max(1, max_rows)), j):
            cost = best[i] + call_cost + (j - i) * lengths[order[j - 1]]
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups: list[list[int]] = []
    j = n
    while j > 0:
        groups.append(order[cut[j] : j])
        j = cut[j]
    return groups[::-1]


def _sentence_config(model_dir: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def optimise(raw: Path, dest: Path) -> None:
    """Save the graph as onnxruntime optimises it (the portable "extended" level), with the weights in a file
    of their own: onnxruntime maps that file instead of copying it, so loading is quicker and leaner."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(dest)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", dest.name + ".data")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    ort.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])


def quantise(raw: Path, dest: Path) -> None:
    """Dynamic int8 quantisation of the weights, one scale per output channel (onnxruntime's quantiser)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(raw), str(dest), weight_type=QuantType.QInt8, per_channel=True)


if __name__ == "__main__":  # the child process of _export_in_child: python -m ... MODEL_DIR OUT_DIR fp32|int8
    out = Path(sys.argv[2])
    out.mkdir(parents=True)
    raw_path, int8_path = out / "raw.onnx", out / "int8.onnx"
    try:
        export(Path(sys.argv[1]), raw_path)
        if sys.argv[3] == "int8":
            quantise(raw_path, int8_path)
        optimise(int8_path if sys.argv[3] == "int8" else raw_path, out / _MODEL_FILE)
    finally:
        raw_path.unlink(missing_ok=True)
        int8_path.unlink(missing_ok=True)
