"""Action estimates (SPEC §4.5) and near-identity predictions (SPEC §7), each with the measured
value and its error beside the prediction or bound.

* :func:`orbit_action` — KL and Bures action and Fisher–Rao length of a chain of orbit points
  β_0..β_L, with the bounds ½ΣI_min Δβ² ≤ 𝒜_KL ≤ ½ΣI_max Δβ², the Cauchy–Schwarz bound
  ½(Σ√I_min|Δβ|)²/L, 𝒜_BW ≤ d·𝒜_KL and d_BW(ends) ≤ (√d/2)·FR.
* :func:`chain_action` — the same along a measured chain: the raw energy distributions of the
  prefixes (KL(p_l‖p_{l−1}) ≤ min(4 log ρ_l, (ρ_l⁴ − 1)²), ‖√p_l − √p_{l−1}‖ ≤ ρ_l² − 1) and the
  orbit action of the fitted profile exponents β_l = 2α̂(P_l).
* :func:`near_identity` — r, â and log ρ of I + hE to first and second order, the transport
  budget artanh(h‖E‖), and the exact values.
* :func:`near_identity_step`, :func:`sum_slack` — the one-step and two-step slack expansions.
* :func:`transport_budget` — log M = L·max_l artanh(‖J_l − I‖) for a residual chain, beside the
  measured L·max_l log ρ_l it bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrices, as_matrix
from .chain import Chain, Table
from .exceptions import InvalidArgumentError

__all__ = [
    "Estimate",
    "ActionEstimate",
    "NearIdentityPrediction",
    "orbit_action",
    "chain_action",
    "near_identity",
    "near_identity_step",
    "sum_slack",
    "transport_budget",
]


@dataclass(frozen=True)
class Estimate:
    """A prediction (or bound) beside the measured value: ``error`` = measured − predicted."""

    name: str
    predicted: float
    measured: float

    @property
    def error(self) -> float:
        return self.measured - self.predicted

    def __repr__(self) -> str:
        return f"{self.name}: predicted {self.predicted:.10g}, measured {self.measured:.10g}, error {self.error:.3e}"


def _table(rows: list[Estimate], title: str) -> str:
    w = max(len(r.name) for r in rows)
    lines = [title, f"  {'quantity':<{w}}  {'predicted':>16}  {'measured':>16}  {'error':>10}"]
    for r in rows:
        lines.append(f"  {r.name:<{w}}  {r.predicted:>16.10g}  {r.measured:>16.10g}  {r.error:>10.3e}")
    return "\n".join(lines)


@dataclass(frozen=True, repr=False)
class ActionEstimate:
    """§4.5 action estimates of an orbit chain (all in nats or nats² as appropriate)."""

    d: int
    depth: int
    kl_action: float
    kl_lower: float
    kl_upper: float
    kl_cauchy_schwarz: float
    fisher_rao: float
    fisher_rao_action: float
    bures_action: float
    bures_upper: float
    bures_length: float
    bures_ends: float

    @property
    def holds(self) -> bool:
        """Whether every §4.5 inequality holds (1e−12 relative slack for the I_min grid)."""
        tol = 1e-12 * max(1.0, self.kl_upper)
        return (
            self.kl_lower <= self.kl_action + tol
            and self.kl_action <= self.kl_upper + tol
            and self.kl_cauchy_schwarz <= self.kl_action + tol
            and self.bures_action <= self.bures_upper + tol
            and self.bures_ends <= self.bures_length + 1e-12 * max(1.0, self.bures_length)
        )

    def __repr__(self) -> str:
        return "\n".join(
            [
                f"ActionEstimate(d = {self.d}, L = {self.depth}): {'all bounds hold' if self.holds else 'A BOUND FAILS'}",
                f"  KL action   {self.kl_lower:.6g} <= {self.kl_action:.6g} <= {self.kl_upper:.6g}"
                f"   (Cauchy-Schwarz {self.kl_cauchy_schwarz:.6g}, FR^2/(2L) = {self.fisher_rao_action:.6g})",
                f"  Bures action {self.bures_action:.6g} <= d * KL action = {self.bures_upper:.6g}",
                f"  Fisher-Rao length {self.fisher_rao:.6f}; BW length {self.bures_length:.6f} >= d_BW(ends) {self.bures_ends:.6f}",
            ]
        )


def orbit_action(d: int, betas: Any) -> ActionEstimate:
    """Action estimates (SPEC §4.5) of the orbit chain β_0, …, β_L (energy exponents β = 2α) of
    width d. Example: the converse chain d = 16, L = 32, M = 10 (β_l = 2lt) has 𝒜_KL = 9.2984e−2,
    ½FR²/L = 8.6649e−2, FR = 2.354902, BW length 4.709803, d_BW(ends) = 4.221755."""
    b = np.asarray(betas, dtype=np.float64).ravel()
    raw = _core.orbit_action(int(d), b.tolist())
    return ActionEstimate(d=int(d), depth=len(b) - 1, **raw)


def chain_action(chain: Chain, *, chart: str = "ls") -> tuple[Table, ActionEstimate | None]:
    """Per-interface action along a measured chain, with the raw-spectrum bounds of §4.5:
    columns ``kl`` = KL(p_l‖p_{l−1}) of the prefix energies and ``kl_bound`` =
    min(4 log ρ_l, (ρ_l⁴ − 1)²); ``hellinger`` = ‖√p_l − √p_{l−1}‖ and ``hellinger_bound`` =
    ρ_l² − 1; ``beta`` = 2α̂(P_l). Also returns the orbit action of β_0 = 0, β_1, …, β_L (None when
    a β is not finite)."""
    if chart not in chain.charts:
        raise InvalidArgumentError(f"chart: {chart!r} was not computed for this chain (have {chain.charts})")
    cols = chain._cols
    log_rho = np.asarray(cols["log_rho"], dtype=float)
    bounds = [
        _core.raw_interface_bounds(float(x)) if np.isfinite(x) else (math.inf, math.inf) for x in log_rho
    ]
    beta = 2.0 * np.asarray(cols[f"prefix_alpha_{chart}"], dtype=float)
    table = Table(
        {
            "interface": np.arange(1, len(chain) + 1),
            "kl": cols["prefix_energy_kl"],
            "kl_bound": np.array([b[0] for b in bounds]),
            "hellinger": cols["prefix_energy_step"],
            "hellinger_bound": np.array([b[1] for b in bounds]),
            "beta": beta,
        },
        "chain action",
    )
    betas = np.concatenate([[0.0], beta])
    widths = set(np.asarray(cols["prefix_width"]).tolist())
    if not np.all(np.isfinite(betas)) or len(widths) != 1:
        return table, None
    return table, orbit_action(widths.pop(), betas)


@dataclass(frozen=True, repr=False)
class NearIdentityPrediction:
    """§7 predictions for J = I + hE beside the exact values (see :func:`near_identity`)."""

    h: float
    mu: np.ndarray
    norm: float
    c1: float
    c2: float
    r_first: Estimate
    r_second: Estimate
    log_rho_first: Estimate
    budget: Estimate
    cartan_first: np.ndarray
    cartan_measured: np.ndarray

    @property
    def budget_holds(self) -> bool:
        """log ρ(I + hE) ≤ artanh(h‖E‖) (rigorous when h‖E‖ < 1)."""
        return self.budget.measured <= self.budget.predicted + 1e-12

    @property
    def cartan_error(self) -> float:
        """max_i |â_i(I + hE) − h(μ_i − t)| (O(h²))."""
        return float(np.max(np.abs(self.cartan_measured - self.cartan_first)))

    def __repr__(self) -> str:
        return _table(
            [self.r_first, self.r_second, self.log_rho_first, self.budget],
            f"Near-identity expansion, h = {self.h:g}, ||E|| = {self.norm:.6g}, c1 = {self.c1:.6f}, "
            f"c2 = {self.c2:.6f}; Cartan vector first-order error {self.cartan_error:.3e}; "
            f"transport budget {'holds' if self.budget_holds else 'FAILS'}",
        )


def _f64_matrix(a: Any, arg: str) -> np.ndarray:
    return np.asarray(as_matrix(a, arg), dtype=np.float64)


def near_identity(e: Any, h: float) -> NearIdentityPrediction:
    """Near-identity expansion of J = I + hE (SPEC §7) with the exact values beside it.

    With S = (E + Eᵀ)/2 (eigenvalues μ_1 ≥ … ≥ μ_d, μ_1 simple, top eigenvector u), t = tr S/d and
    q = ‖E‖_F²/d: r(I + hE) = h(μ_1 − t) + (h²/2)(‖Eu‖² − 2μ_1² − q + 2t²) + O(h³); log ρ(I + hE) =
    h(μ_1 − μ_d)/2 + O(h²) and ≤ artanh(h‖E‖) (the transport budget; ``budget.predicted``).
    Example: E = [[0,1,0],[0,.5,0],[1,0,−.5]], h = 0.01: r = 0.0085936522, first order 0.0086602540,
    second order 0.0085935874.
    """
    raw = _core.near_identity_expansion(_f64_matrix(e, "e"), float(h))
    return NearIdentityPrediction(
        h=raw["h"],
        mu=raw["mu"],
        norm=raw["norm"],
        c1=raw["c1"],
        c2=raw["c2"],
        r_first=Estimate("r, first order", raw["r_first"], raw["r_measured"]),
        r_second=Estimate("r, second order", raw["r_second"], raw["r_measured"]),
        log_rho_first=Estimate("log rho, first order", raw["log_rho_first"], raw["log_rho_measured"]),
        budget=Estimate("log rho vs budget artanh(h||E||)", raw["budget"], raw["log_rho_measured"]),
        cartan_first=raw["cartan_first"],
        cartan_measured=raw["cartan_measured"],
    )


def near_identity_step(x: Any, e: Any, h: float) -> tuple[Estimate, Estimate]:
    """One chain step J = I + hE on a current product X (top left singular vector u_X, s_1
    simple): Δr = h(u_Xᵀ S u_X − ⟨S, XXᵀ⟩/‖X‖_F²) + O(h²) and σ = h(μ_1(S) − u_Xᵀ S u_X) + O(h²).
    Returns (Δr estimate, slack estimate), each with the exact value."""
    dr1, drm, s1, sm = _core.near_identity_step(_f64_matrix(x, "x"), _f64_matrix(e, "e"), float(h))
    return Estimate("delta r, first order", dr1, drm), Estimate("slack, first order", s1, sm)


def sum_slack(a: Any, b: Any, h: float) -> Estimate:
    """Slack σ(I + hB, I + hA) = h[μ_1(Sym A) + μ_1(Sym B) − μ_1(Sym(A + B))] + O(h²) (Ky Fan, ≥ 0),
    beside the exact slack."""
    first, measured = _core.near_identity_sum_slack(_f64_matrix(a, "a"), _f64_matrix(b, "b"), float(h))
    return Estimate("sum slack, first order", first, measured)


def transport_budget(factors: Any) -> Estimate:
    """Transport budget of a residual chain J_l = I + (J_l − I): log M = L·max_l artanh(‖J_l − I‖)
    (``predicted``; +inf when some ‖J_l − I‖ ≥ 1), beside the measured L·max_l log ρ(J_l) that it
    bounds (``measured``; it must not exceed ``predicted``). ``factors``: a 3-D stack or a
    sequence of square matrices."""
    kind, mats = as_matrices(factors, "factors")
    seq = list(mats) if kind == "list" else [m for m in mats]
    h_norms, log_rho = [], []
    for i, j in enumerate(seq):
        j = np.asarray(j, dtype=np.float64)
        if j.shape[0] != j.shape[1]:
            raise InvalidArgumentError(f"factors[{i}]: a residual factor must be square, got {j.shape}")
        h_norms.append(float(np.linalg.norm(j - np.eye(j.shape[0]), 2)))
        s = np.linalg.svd(j, compute_uv=False)
        log_rho.append(0.5 * (math.log(s[0]) - math.log(s[-1])) if s[-1] > 0 else math.inf)
    return Estimate("L max log rho vs transport budget", _core.transport_budget(h_norms), len(seq) * max(log_rho))
