"""The value model: a recurrent auto-encoder over token sequences with a linear value head.

    tokens -> embedding -> GRU encoder -> latent z -> linear value v(z)
                                          z -> GRU decoder (masked) -> tokens

One linear layer predicts the value from z, so the value grows along one direction w of
the latent space; the proposer climbs along w and decodes. The decoder applies the
grammar's completability mask at every step, so every decode is valid.

Losses (weights in the `value_model:` config section):
- reconstruction: cross-entropy of the masked decoder (AutoSNAP);
- value: mean squared error of the standardised value (AutoSNAP);
- ranking: pairwise logistic loss on value order (this project's choice: the search
  only needs the order of SNAPs, and ranking is robust to outliers such as a diverged
  child's neighbour);
- latent: mean squared norm of z (this project's choice: keeps the space compact so a
  step size means the same thing in every round);
- robustness: reconstruction from z plus Gaussian noise (this project's choice: nearby
  latent points must decode to nearby SNAPs for ascent to make sense).
Unevaluated random sequences join the reconstruction losses (semi-supervised; this
project's choice). The paper's exact losses and budgets are not public.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from autosnap.errors import InputError
from autosnap.progress import log
from autosnap.search.config import ValueModelConfig
from autosnap.search.predictors.bag_model import BagModel
from autosnap.search.rank import kendall
from autosnap.seeds import pretrain_seed
from autosnap.space import grammar as gr
from autosnap.tables import atomic_write


class ValueModelError(InputError):
    """A missing or corrupt model file, or one made for another grammar."""


class SeqAutoEncoder(nn.Module):
    """GRU encoder and decoder around a latent code, with a linear value head."""

    def __init__(self, vocab: int, length: int, cfg: ValueModelConfig):
        super().__init__()
        self.vocab, self.length = vocab, length
        self.bos = vocab  # an extra embedding row starts the decoder
        self.embed = nn.Embedding(vocab + 1, cfg.embed, padding_idx=gr.PAD)
        self.encoder = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
        self.to_latent = nn.Linear(cfg.hidden, cfg.latent)
        self.value = nn.Linear(cfg.latent, cfg.heads)
        self.from_latent = nn.Linear(cfg.latent, cfg.hidden)
        self.decoder = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
        self.out = nn.Linear(cfg.hidden, vocab)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Latent codes (B, latent) of token sequences (B, T): the encoder's state at each
        sequence's last token. (Running over the padding and picking that state is the
        same as packing the sequences, at half the cost for these short sequences.)"""
        last = (tokens != gr.PAD).sum(dim=1).clamp(min=1) - 1
        out, _ = self.encoder(self.embed(tokens))
        return self.to_latent(out[torch.arange(len(tokens)), last])

    def logits(self, z: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced decoder logits (B, T, vocab) for target sequences `tokens`."""
        start = torch.full_like(tokens[:, :1], self.bos)
        inputs = torch.cat([start, tokens[:, :-1]], dim=1)
        h0 = torch.tanh(self.from_latent(z))[None]
        out, _ = self.decoder(self.embed(inputs), h0.contiguous())
        return self.out(out)


def sequence_masks(
    grammar: gr.TokenGrammar, seqs: Sequence[Sequence[str]], length: int
) -> torch.Tensor:
    """Mask (N, T, vocab) of allowed tokens at each position of each target sequence
    (the prefix states come from the target itself; positions after END allow PAD)."""
    vocab = gr.vocab_size(grammar)
    masks = torch.zeros(len(seqs), length, vocab, dtype=torch.bool)
    for n, seq in enumerate(seqs):
        state = grammar.initial_state()
        for t in range(length):
            if t <= len(seq):
                masks[n, t] = torch.tensor(gr.token_mask(grammar, state, grammar.max_len - t))
                if t < len(seq):
                    state = grammar.advance(state, seq[t])
            else:
                masks[n, t, gr.PAD] = True
    return masks


def masked_ce(
    logits: torch.Tensor, targets: torch.Tensor, masks: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy among the allowed tokens only, PAD positions ignored (with
    reduction "none": per position (B, T), 0 at PAD)."""
    logits = logits.masked_fill(~masks, -1e9)
    ce = nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=gr.PAD,
        reduction=reduction,
    )  # fmt: skip
    return ce if reduction == "mean" else ce.view(targets.shape)


@torch.no_grad()
def greedy_decode(
    model: SeqAutoEncoder, grammar: gr.TokenGrammar, z: torch.Tensor
) -> list[list[str]]:
    """Most likely valid sequence for each latent code, masked step by step."""
    b = len(z)
    h = torch.tanh(model.from_latent(z))[None].contiguous()
    token = torch.full((b, 1), model.bos, dtype=torch.long)
    states = [grammar.initial_state()] * b
    done = [False] * b
    seqs: list[list[str]] = [[] for _ in range(b)]
    for t in range(grammar.max_len + 1):
        out, h = model.decoder(model.embed(token), h)
        logits = model.out(out[:, 0])
        mask = torch.tensor(
            [gr.token_mask(grammar, s, grammar.max_len - t) if not d else
             [True] + [False] * (logits.shape[1] - 1) for s, d in zip(states, done, strict=True)]
        )  # fmt: skip
        choice = logits.masked_fill(~mask, -math.inf).argmax(dim=1)
        for i, c in enumerate(choice.tolist()):
            if done[i]:
                continue
            if c == gr.END:
                done[i] = True
            else:
                sym = grammar.symbols[c - gr.N_SPECIAL]
                seqs[i].append(sym)
                states[i] = grammar.advance(states[i], sym)
        token = choice[:, None]
        if all(done):
            break
    return seqs


@dataclass
class ValueModel:
    """A fitted auto-encoder with the value scale it was trained on."""

    net: SeqAutoEncoder
    grammar: gr.TokenGrammar
    cfg: ValueModelConfig
    value_mean: float
    value_std: float
    n_evaluated: int

    @property
    def length(self) -> int:
        return self.grammar.max_len + 1

    def tokens(self, seqs: Sequence[Sequence[str]]) -> torch.Tensor:
        return torch.tensor([gr.encode(self.grammar, s, self.length) for s in seqs])

    @torch.no_grad()
    def encode(self, seqs: Sequence[Sequence[str]]) -> torch.Tensor:
        self.net.eval()
        return self.net.encode(self.tokens(seqs))

    @torch.no_grad()
    def heads_latent(self, z: torch.Tensor) -> np.ndarray:
        """Every head's predicted value (N, heads) of latent codes, in the history's units."""
        self.net.eval()
        return (self.net.value(z) * self.value_std + self.value_mean).numpy()

    def predict_latent(self, z: torch.Tensor) -> np.ndarray:
        """Predicted value (the heads' mean, in the history's units) of latent codes."""
        return self.heads_latent(z).mean(axis=1)

    def predict(self, seqs: Sequence[Sequence[str]]) -> np.ndarray:
        return self.predict_latent(self.encode(seqs))

    def predict_spread(self, seqs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over the heads (the spread is 0 with one head)."""
        heads = self.heads_latent(self.encode(seqs))
        return heads.mean(axis=1), heads.std(axis=1)

    def direction(self) -> torch.Tensor:
        """Unit vector along which the predicted value grows: the weight of the heads'
        mean, itself a linear head."""
        w = self.net.value.weight.detach().mean(dim=0)
        return w / (w.norm() + 1e-12)

    def decode(self, z: torch.Tensor) -> list[list[str]]:
        self.net.eval()
        return greedy_decode(self.net, self.grammar, z)

    def save(self, path: str | Path) -> Path:
        payload = {
            "state_dict": self.net.state_dict(),
            "config": asdict(self.cfg),
            "symbols": list(self.grammar.symbols),
            "max_len": self.grammar.max_len,
            "value_mean": self.value_mean,
            "value_std": self.value_std,
            "n_evaluated": self.n_evaluated,
        }
        return atomic_write(path, lambda tmp: torch.save(payload, tmp))

    @classmethod
    def load(cls, path: str | Path, grammar: gr.TokenGrammar) -> ValueModel:
        model = load_model(path, grammar)
        if not isinstance(model, cls):
            raise ValueModelError(f"{path}: a {type(model).__name__}, not an auto-encoder")
        return model

    @classmethod
    def from_checkpoint(cls, ckpt: dict, grammar: gr.TokenGrammar, path: Path) -> ValueModel:
        try:
            cfg = ValueModelConfig(**ckpt["config"])
        except Exception as e:
            raise ValueModelError(f"{path}: not a readable value model ({e})") from e
        if ckpt["symbols"] != list(grammar.symbols) or ckpt["max_len"] != grammar.max_len:
            raise ValueModelError(
                f"{path}: made for symbols {ckpt['symbols']} with max_len {ckpt['max_len']}, "
                f"not for this grammar (max_len {grammar.max_len})"
            )
        net = SeqAutoEncoder(gr.vocab_size(grammar), grammar.max_len + 1, cfg)
        try:
            net.load_state_dict(ckpt["state_dict"])
        except RuntimeError as e:
            raise ValueModelError(f"{path}: weights do not match the model ({e})") from e
        return cls(net, grammar, cfg, ckpt["value_mean"], ckpt["value_std"], ckpt["n_evaluated"])


def load_model(path: str | Path, grammar: gr.TokenGrammar) -> ValueModel | BagModel:
    """A value model of either kind (`value_model.kind`) from the file a fit wrote."""
    path = Path(path)
    if not path.exists():
        raise ValueModelError(f"{path}: value model file not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueModelError(f"{path}: not a readable value model ({e})") from e
    if isinstance(ckpt, dict) and ckpt.get("kind") == "bag":
        return BagModel.from_payload(ckpt, grammar, path)
    return ValueModel.from_checkpoint(ckpt, grammar, path)


def train_value_model(
    grammar: gr.TokenGrammar,
    seqs: Sequence[Sequence[str]],
    values: Sequence[float],
    cfg: ValueModelConfig,
    pool: Sequence[Sequence[str]] = (),
    init: ValueModel | None = None,
) -> ValueModel:
    """Fit the auto-encoder on evaluated sequences (with values) and an unlabelled pool,
    from `init`'s weights when given (a warm start, e.g. from `pretrained`)."""
    torch.manual_seed(cfg.seed)
    values_arr = np.asarray(values, dtype=np.float64)
    mean = float(values_arr.mean()) if len(values_arr) else 0.0
    std = float(values_arr.std()) if len(values_arr) > 1 and values_arr.std() > 0 else 1.0
    all_seqs = list(seqs) + list(pool)
    length = grammar.max_len + 1
    tokens = torch.tensor([gr.encode(grammar, s, length) for s in all_seqs])
    masks = sequence_masks(grammar, all_seqs, length)
    y = torch.tensor((values_arr - mean) / std, dtype=torch.float32)
    n_lab = len(seqs)
    net = SeqAutoEncoder(gr.vocab_size(grammar), length, cfg)
    if init is not None:
        # the encoder and decoder only: the heads start fresh for these children
        net.load_state_dict({k: v for k, v in init.net.state_dict().items()
                             if not k.startswith("value.")}, strict=False)  # fmt: skip
    # fused: one kernel for all parameters, a fifth of the per-tensor loop's time on CPU
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps)
    gen = torch.Generator().manual_seed(cfg.seed)
    # head h fits child i with weight boot[i, h]: its count in head h's bootstrap
    # resample (all ones with a single head, which fits every child once)
    boot = torch.ones(n_lab, cfg.heads)
    if cfg.heads > 1 and n_lab:
        draws = torch.randint(n_lab, (cfg.heads, n_lab), generator=gen)
        boot = torch.stack([torch.bincount(d, minlength=n_lab) for d in draws], 1).float()
    net.train()
    for _ in range(cfg.steps):
        # One encoder pass for the batch and the labelled batch, one decoder pass for the
        # clean and the noisy codes: the same losses as separate passes, in half the
        # calls (small batches on a CPU cost per call, not per row).
        idx = torch.randint(len(all_seqs), (cfg.batch_size,), generator=gen)
        b = len(idx)
        noise = torch.randn((b, cfg.latent), generator=gen) if cfg.w_robust else None
        lab = (torch.randint(n_lab, (min(cfg.batch_size, n_lab),), generator=gen)
               if n_lab >= 2 else idx[:0])  # fmt: skip
        z_all = net.encode(tokens[torch.cat([idx, lab])])
        z = z_all[:b]
        targets, tmasks = tokens[idx], masks[idx]
        if noise is not None:
            codes = torch.cat([z, z + cfg.noise * noise])
            targets, tmasks = targets.repeat(2, 1), tmasks.repeat(2, 1, 1)
        else:
            codes = z
        ce = masked_ce(net.logits(codes, targets), targets, tmasks, reduction="none")
        n_tok = (tokens[idx] != gr.PAD).sum().clamp(min=1)
        loss = cfg.w_recon * ce[:b].sum() / n_tok
        if noise is not None:
            loss = loss + cfg.w_robust * ce[b:].sum() / n_tok
        loss = loss + cfg.w_latent * z.pow(2).sum(dim=1).mean()
        if n_lab >= 2:
            pred, w = net.value(z_all[b:]), boot[lab]  # (B, heads) each
            err = (pred - y[lab][:, None]).pow(2)
            loss = loss + cfg.w_value * ((w * err).sum(0) / w.sum(0).clamp(min=1)).mean()
            pairs = (y[lab][:, None] - y[lab][None, :]) > 0
            if pairs.any():
                diff_pred = pred[:, None, :] - pred[None, :, :]  # (B, B, heads)
                pw = (w[:, None, :] * w[None, :, :])[pairs]
                rank = (pw * nn.functional.softplus(-diff_pred[pairs])).sum(0)
                loss = loss + cfg.w_rank * (rank / pw.sum(0).clamp(min=1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    return ValueModel(net, grammar, cfg, mean, std, n_lab)


def _reconstruction_only(cfg: ValueModelConfig) -> ValueModelConfig:
    """The settings pretraining runs with: one head, no value or rank loss."""
    return replace(cfg, steps=cfg.pretrain_steps, heads=1, w_value=0.0, w_rank=0.0)


def pretrain_value_model(
    grammar: gr.TokenGrammar, cfg: ValueModelConfig, min_len: int = 1
) -> ValueModel:
    """The auto-encoder trained on reconstruction alone, on `cfg.pretrain_pool` random
    sequences (or the whole space where it is smaller) for `cfg.pretrain_steps` steps.

    Why: a round's few children cannot teach a decoder the grammar (held-out
    reconstruction fell to 0-20 % after two demo rounds), so a latent step decoded to
    something close to arbitrary. Pretrained once per grammar, every round's fit starts
    from it (`train_value_model(init=...)`)."""
    pool = gr.sample_unique(grammar, cfg.pretrain_pool, pretrain_seed(cfg.seed), min_len,
                            grammar.max_len, at_most=True)  # fmt: skip
    recon_only = _reconstruction_only(cfg)
    log.info("value model: pretraining reconstruction on %d sequences, %d steps",
             len(pool), cfg.pretrain_steps)  # fmt: skip
    return train_value_model(grammar, [], [], recon_only, pool)


def pretrained(grammar: gr.TokenGrammar, cfg: ValueModelConfig, min_len: int = 1
               ) -> ValueModel | None:  # fmt: skip
    """`pretrain_value_model`, once per grammar and pretraining settings in a process
    (the tabular benchmarks run many searches on one grammar); None when
    `cfg.pretrain_steps` is 0. The workflow keeps its one on disk instead (rule
    pretrain)."""
    if cfg.pretrain_steps <= 0:
        return None
    # only what pretraining reads: configs that differ elsewhere share one
    key = replace(_reconstruction_only(cfg), random_pool=0, holdout=0.0)
    return _pretrained(grammar, key, min_len)


@functools.lru_cache(maxsize=4)
def _pretrained(grammar: gr.TokenGrammar, cfg: ValueModelConfig, min_len: int) -> ValueModel:
    return pretrain_value_model(grammar, cfg, min_len)


def reconstruction_accuracy(model: ValueModel, seqs: Sequence[Sequence[str]]) -> float:
    """Share of sequences decoded back exactly from their own latent code."""
    if not seqs:
        return float("nan")
    decoded = model.decode(model.encode(seqs))
    return float(np.mean([list(d) == list(s) for d, s in zip(decoded, seqs, strict=True)]))


def fit_with_metrics(
    grammar: gr.TokenGrammar,
    seqs: Sequence[Sequence[str]],
    values: Sequence[float],
    cfg: ValueModelConfig,
    init: ValueModel | None = None,
    min_len: int = 1,
) -> tuple[ValueModel, dict]:
    """Measure on a held-out share, then refit on everything (both from `init`'s
    weights when given); returns (model, metrics). `cfg.seed` seeds the held-out split,
    the unlabelled pool (random sequences of `min_len` symbols or more) and the fits.

    Kendall tau and Spearman rho are NaN with fewer than 3 held-out sequences (and the
    tau on the training labels with fewer than 3 of those), as `rank.kendall` gives."""
    # Imported here: scipy.stats costs every training job (which imports this module
    # through autosnap.pipeline.stages) 0.4 s, and only fitting needs it.
    from scipy.stats import spearmanr

    rng = random.Random(cfg.seed)
    pool_n = cfg.random_pool
    known = {grammar.key(s) for s in seqs}
    pool = (gr.sample_unique(grammar, pool_n, cfg.seed, min_len, grammar.max_len, exclude=known,
                             at_most=True) if pool_n else [])  # fmt: skip
    order = list(range(len(seqs)))
    rng.shuffle(order)
    n_hold = int(round(cfg.holdout * len(seqs))) if len(seqs) >= 10 else 0
    hold, fit_idx = order[:n_hold], order[n_hold:]
    metrics: dict = {"n_evaluated": len(seqs), "n_holdout": n_hold, "n_pool": len(pool)}
    if n_hold >= 3:
        probe = train_value_model(
            grammar, [seqs[i] for i in fit_idx], [values[i] for i in fit_idx], cfg, pool, init
        )
        pred = probe.predict([seqs[i] for i in hold])
        true = np.asarray([values[i] for i in hold])
        metrics["kendall_tau"] = kendall(pred, true)
        metrics["spearman_rho"] = float(spearmanr(pred, true).statistic)
        metrics["holdout_recon_acc"] = reconstruction_accuracy(probe, [seqs[i] for i in hold])
    else:
        metrics.update(kendall_tau=np.nan, spearman_rho=np.nan, holdout_recon_acc=np.nan)
    model = train_value_model(grammar, seqs, values, cfg, pool, init)
    metrics["recon_acc"] = reconstruction_accuracy(model, list(seqs) + pool[:200])
    metrics["train_kendall_tau"] = kendall(model.predict(seqs), values) if seqs else np.nan
    log.info(
        "value model: %d evaluated, recon acc %.3f, held-out tau %.3f rho %.3f",
        len(seqs), metrics["recon_acc"], metrics["kendall_tau"], metrics["spearman_rho"],
    )  # fmt: skip
    return model, metrics
