"""An ensemble of small MLPs on a SNAP's symbols, as BANANAS uses (White, Neiswanger and
Savani, AAAI 2021): the members' mean predicts a child's value, their spread is the
uncertainty an acquisition (Thompson draws, UCB) needs. Any strategy can fit one.

- Encoding: the symbol at each position, one-hot (padded to the grammar's `max_len`),
  and the count of each symbol. BANANAS' path encoding is for cell DAGs; a SNAP is a
  sequence.
- Members: 3 hidden layers of 32, each from its own initialisation, fitted on every
  given child (values standardised, Adam, 300 full-batch steps). The sizes are ours; the
  paper's are for its cell spaces. A fit takes a second or two on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autosnap.seeds import draw_seed
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


@dataclass
class Ensemble:
    """Fitted members and the standardisation of the values they were fitted on."""

    grammar: gr.TokenGrammar
    members: list[Any]
    mean: float
    std: float

    def predict_all(self, seqs: Sequence[Sequence[str]]) -> np.ndarray:
        """Every member's predictions, (members, N), in the values' units."""
        import torch

        x = torch.from_numpy(features(self.grammar, seqs))
        with torch.no_grad():
            return np.stack([net(x).squeeze(1).numpy() * self.std + self.mean
                             for net in self.members])  # fmt: skip

    def predict_spread(self, seqs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The members' mean and standard deviation per sequence."""
        pred = self.predict_all(seqs)
        return pred.mean(axis=0), pred.std(axis=0)


def fit_ensemble(grammar: gr.TokenGrammar, seqs: Sequence[Sequence[str]],
                 values: Sequence[float], members: int, rng: np.random.Generator
                 ) -> Ensemble:  # fmt: skip
    """`members` MLPs fitted on (seqs, values), each initialised from a seed of `rng`."""
    import torch
    from torch import nn

    y = np.asarray(values, dtype=np.float64)
    mean, std = float(y.mean()), float(y.std()) or 1.0
    xt = torch.from_numpy(features(grammar, seqs))
    yt = torch.from_numpy(((y - mean) / std).astype(np.float32))
    nets = []
    with torch.random.fork_rng(devices=[]):
        for _ in range(members):
            torch.manual_seed(draw_seed(rng))
            layers: list[nn.Module] = []
            width = xt.shape[1]
            for _ in range(LAYERS):
                layers += [nn.Linear(width, HIDDEN), nn.ReLU()]
                width = HIDDEN
            net = nn.Sequential(*layers, nn.Linear(width, 1))
            opt = torch.optim.Adam(net.parameters(), lr=LR)
            for _ in range(STEPS):
                opt.zero_grad()
                nn.functional.mse_loss(net(xt).squeeze(1), yt).backward()
                opt.step()
            nets.append(net.eval())
    return Ensemble(grammar, nets, mean, std)
