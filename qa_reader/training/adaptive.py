"""Length-adaptive reading: Drop-and-Restore over the student's layers (Kim & Cho, "Length-Adaptive
Transformer", 2021), with the share of tokens each layer keeps given at run time.

After each layer's attention, the tokens that received the least attention (summed over heads and over the
real query positions) stop: only the kept ones go through that layer's feed-forward block and the layers
above it. A dropped token's vector is the last one it had; at the end every token is put back in its place
("restored"), so the span head still scores every context token. [CLS] is always kept (its logits are the
no-answer score), padding always goes first, and the kept tokens keep their order, so with every ratio at 1.0
the computation is the plain network's, step for step.

`keep_ratios` has one value per layer, each the share of the *previous* layer's tokens to keep, so the
sequence shrinks layer by layer (0.8 everywhere reads 80 %, 64 %, 51 % ... of the window).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import DistilBertForQuestionAnswering


def keep_count(length: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    """ceil(length x ratio), at least 1 and at most `length` (0-d int64 tensors, so ONNX sees them computed)."""
    wanted = torch.ceil(length.to(torch.float32) * ratio).to(torch.int64)
    return torch.minimum(torch.clamp(wanted, min=1), length)


def kept_positions(probs: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Indices (batch, keep), ascending, of the tokens that received the most attention.

    probs: (batch, heads, queries, keys) attention weights; mask: (batch, tokens), 1.0 for real tokens.
    Padding ranks below every real token and [CLS] (index 0) above them all.
    """
    received = (probs * mask[:, None, :, None]).sum(dim=(1, 2))
    received = received * mask + (mask - 1.0)  # real tokens >= 0, padding -1
    above_all = received.sum(dim=1, keepdim=True) + 1.0
    received = torch.cat([above_all, received[:, 1:]], dim=1)
    _, chosen = torch.topk(received, keep, dim=1)
    ordered, _ = torch.sort(chosen, dim=1)
    return ordered


def _gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values[b, index[b, i], ...] for 2-d or 3-d values."""
    if values.dim() == 2:
        return values.gather(1, index)
    return values.gather(1, index.unsqueeze(-1).expand(-1, -1, values.shape[-1]))


class LengthAdaptiveReader(nn.Module):
    """The student QA network read with Drop-and-Restore; returns start logits, end logits and, per layer,
    how many token positions that layer's feed-forward block read (the same for every row of a batch)."""

    def __init__(self, model: DistilBertForQuestionAnswering) -> None:
        super().__init__()
        self.model = model

    def _attend(self, attention: nn.Module, hidden: torch.Tensor, mask: torch.Tensor):
        batch, tokens, dim = hidden.shape
        heads = attention.n_heads
        size = dim // heads

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, tokens, heads, size).transpose(1, 2)

        query = split(attention.q_lin(hidden))
        key = split(attention.k_lin(hidden))
        value = split(attention.v_lin(hidden))
        blocked = (1.0 - mask)[:, None, None, :] * torch.finfo(query.dtype).min
        if torch.is_grad_enabled() and not torch.jit.is_tracing():
            # Training: the fused kernel for the values and gradients; the weights that rank the tokens are
            # computed again without gradients (the ranking is not differentiable anyway).
            p = attention.dropout.p if self.training else 0.0
            mixed = nn.functional.scaled_dot_product_attention(
                query, key, value, attn_mask=blocked.to(query.dtype), dropout_p=p
            )
            with torch.no_grad():
                probs = torch.softmax(torch.matmul(query, key.transpose(2, 3)) * (size**-0.5) + blocked, dim=-1)
        else:
            scores = torch.matmul(query, key.transpose(2, 3)) * (size**-0.5) + blocked
            probs = torch.softmax(scores, dim=-1)
            mixed = torch.matmul(attention.dropout(probs), value)
        mixed = mixed.transpose(1, 2).reshape(batch, tokens, dim)
        return attention.out_lin(mixed), probs

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, keep_ratios: torch.Tensor):
        encoder = self.model.distilbert
        hidden = encoder.embeddings(input_ids)
        dim = hidden.shape[-1]
        restored = hidden
        mask = attention_mask.to(hidden.dtype)
        shape = torch._shape_as_tensor(input_ids)
        positions = torch.arange(shape[1], device=input_ids.device).unsqueeze(0).expand(shape[0], -1)
        read = []
        for index, layer in enumerate(encoder.transformer.layer):
            attended, probs = self._attend(layer.attention, hidden, mask)
            attended = layer.sa_layer_norm(attended + hidden)
            keep = keep_count(torch._shape_as_tensor(hidden)[1], keep_ratios[index])
            chosen = kept_positions(probs, mask, keep)
            attended = _gather_rows(attended, chosen)
            mask = _gather_rows(mask, chosen)
            positions = _gather_rows(positions, chosen)
            hidden = layer.output_layer_norm(layer.ffn(attended) + attended)
            restored = restored.scatter(1, positions.unsqueeze(-1).expand(-1, -1, dim), hidden)
            read.append(keep.reshape(1))
        logits = self.model.qa_outputs(self.model.dropout(restored))
        start, end = logits.split(1, dim=-1)
        return start.squeeze(-1), end.squeeze(-1), torch.cat(read)


def shortest_ratios(layers: int, bound: float) -> torch.Tensor:
    """The smallest network LengthDrop trains: every layer keeps 1 - bound of the tokens before it."""
    return torch.full((layers,), 1.0 - bound)


def random_ratios(layers: int, bound: float) -> torch.Tensor:
    """A random sub-network: each layer keeps a share drawn uniformly from [1 - bound, 1] (torch's RNG, so a
    resumed run draws what the uninterrupted one would have)."""
    return 1.0 - bound * torch.rand(layers)


def soft_cross_entropy(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over rows of the cross-entropy from the teacher's distribution over positions to the student's,
    padding left out of both (in-place distillation: the full network teaches its sub-networks)."""
    # In float32 whatever the logits are: float32's smallest value overflows bf16 to -inf, and 0 x -inf is NaN.
    blocked = (1.0 - mask.to(torch.float32)) * torch.finfo(torch.float32).min
    target = torch.softmax(teacher.float() + blocked, dim=-1)
    return -(target * torch.log_softmax(student.float() + blocked, dim=-1)).sum(dim=-1).mean()


def sandwich_backward(
    model: DistilBertForQuestionAnswering,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    start_positions: torch.Tensor,
    end_positions: torch.Tensor,
    bound: float,
    random_count: int,
    bf16: bool,
) -> tuple[float, float]:
    """One LengthDrop step's gradients (the sandwich rule): the full network on the gold labels, then the
    shortest and `random_count` random sub-networks on the full network's distributions. Each pass is
    back-propagated at once, so only one graph is held at a time.

    Returns (gold loss, mean distillation loss).
    """
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        full = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            start_positions=start_positions,
            end_positions=end_positions,
        )
    full.loss.backward()
    teacher_start, teacher_end = full.start_logits.detach(), full.end_logits.detach()
    adaptive = LengthAdaptiveReader(model)
    layers = len(model.distilbert.transformer.layer)
    configs = [shortest_ratios(layers, bound)] + [random_ratios(layers, bound) for _ in range(random_count)]
    distilled = 0.0
    for ratios in configs:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            start, end, _ = adaptive(input_ids, attention_mask, ratios)
        loss = (
            soft_cross_entropy(start, teacher_start, attention_mask)
            + soft_cross_entropy(end, teacher_end, attention_mask)
        ) / 2
        loss.backward()
        distilled += loss.item()
    return full.loss.item(), distilled / len(configs)
