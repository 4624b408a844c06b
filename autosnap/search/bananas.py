"""A BANANAS-style predictor search (White, Neiswanger and Savani, AAAI 2021): an
ensemble of small MLPs predicts a child's value from an encoding of its SNAP; each
round mutates the best children into a pool of candidates and takes the K with the best
independent Thompson draws.

- Encoding: the symbol at each position, one-hot (padded to `max_len`), and the count
  of each symbol. BANANAS' path encoding is for cell DAGs; a SNAP is a sequence.
- Ensemble: `search.ensemble` MLPs (3 hidden layers of 32), each from its own
  initialisation, fitted on every successful child (values standardised, Adam, 300
  full-batch steps). The sizes are ours; the paper's are for its cell spaces.
- Candidates: `search.candidates` one-symbol mutations of the `top` best children
  (BANANAS' acquisition optimiser), new ones only: the scored pool's own generator
  (autosnap.search.candidates.mutations).
- Acquisition: independent Thompson sampling, one draw from N(mean, sd) of the ensemble
  per candidate, the K best draws taken.

Everything is seeded by the round's seed, so the proposals of a config are the same in
the workflow's propose job and in process. The ensemble is fitted in the propose step:
it takes a second or two on a CPU and needs no file between jobs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pandas as pd

from autosnap.search.candidates import Pool, mutations
from autosnap.search.config import SearchConfig
from autosnap.search.history import evaluated, ranked
from autosnap.space import grammar as gr

HIDDEN = 32
LAYERS = 3
STEPS = 300
LR = 0.01


def features(grammar: gr.TokenGrammar, seqs: Sequence[Sequence[str]]) -> np.ndarray:
    """One-hot symbols by position, then symbol counts: (N, max_len * S + S)."""
    index = {s: i for i, s in enumerate(grammar.symbols)}
    n_sym = len(grammar.symbols)
    x = np.zeros((len(seqs), grammar.max_len * n_sym + n_sym), dtype=np.float32)
    for row, seq in enumerate(seqs):
        for pos, sym in enumerate(seq):
            x[row, pos * n_sym + index[sym]] = 1.0
            x[row, grammar.max_len * n_sym + index[sym]] += 1.0
    return x


def fit_predict(x: np.ndarray, y: np.ndarray, x_new: np.ndarray, members: int, seed: int
                ) -> np.ndarray:  # fmt: skip
    """Predictions (members, N_new) of an ensemble fitted on (x, y), in y's units."""
    import torch
    from torch import nn

    mean, std = float(y.mean()), float(y.std()) or 1.0
    xt, yt = torch.from_numpy(x), torch.from_numpy(((y - mean) / std).astype(np.float32))
    preds = []
    with torch.random.fork_rng(devices=[]):
        for m in range(members):
            torch.manual_seed(seed * 1009 + m)
            layers: list[nn.Module] = []
            width = x.shape[1]
            for _ in range(LAYERS):
                layers += [nn.Linear(width, HIDDEN), nn.ReLU()]
                width = HIDDEN
            net = nn.Sequential(*layers, nn.Linear(width, 1))
            opt = torch.optim.Adam(net.parameters(), lr=LR)
            for _ in range(STEPS):
                opt.zero_grad()
                loss = nn.functional.mse_loss(net(xt).squeeze(1), yt)
                loss.backward()
                opt.step()
            with torch.no_grad():
                preds.append(net(torch.from_numpy(x_new)).squeeze(1).numpy() * std + mean)
    return np.stack(preds)


def bananas_proposals(
    history: pd.DataFrame | None,
    cfg: SearchConfig,
    grammar: gr.TokenGrammar,
    known: set[str],
    k: int,
    seed: int,
) -> list[dict]:
    """Up to K proposal rows (snap, origin `bananas`, parent, predicted_value); fewer
    when there are under 2 successful children to fit on or too few new mutations, and
    the caller fills the round with random SNAPs."""
    ok = evaluated(history)
    if len(ok) < 2:
        return []
    pool = Pool(grammar, set(known))
    mutations(pool, ranked(history)["snap"].head(cfg.top).tolist(), cfg.candidates,
              random.Random(seed))  # fmt: skip
    if not pool.rows:
        return []
    x = features(grammar, [s.split() for s in ok["snap"]])
    x_new = features(grammar, [r["snap"].split() for r in pool.rows])
    pred = fit_predict(x, ok["value"].to_numpy(np.float64), x_new, cfg.ensemble, seed)
    mean, sd = pred.mean(axis=0), pred.std(axis=0)
    draw = np.random.default_rng(seed).normal(mean, sd)
    order = np.argsort(-draw, kind="stable")[:k]
    return [{"snap": pool.rows[i]["snap"], "origin": "bananas", "parent": pool.rows[i]["parent"],
             "predicted_value": float(mean[i])} for i in order]  # fmt: skip
