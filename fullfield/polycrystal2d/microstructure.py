"""Periodic 2D Voronoi microstructure on a pixel grid: grain map and in-plane orientations.

One microstructure per case, drawn from ``case.rng("microstructure")`` in a fixed order (seed points, then angles),
so it does not depend on the grid: refining the grid re-pixelates the same tessellation with the same angles.
The tessellation is damask's ``GeomGrid.from_Voronoi_tessellation(periodic=True)`` on an N x N x 1 grid of the
unit cell [0, 1]^2 (one cell thick); ``grain[i, j]`` is the grain of pixel (i, j), i along x, j along y.
Orientation angles are uniform on [0, pi): rotating a crystal by pi maps b -> -b and n -> -n, so the Schmid
tensors b (x) n, and hence the response, are pi-periodic in the angle.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Microstructure:
    grain: np.ndarray  # (N, N) int, grain id of pixel (i, j), i along x
    angle: np.ndarray  # (n_grains,) rad, rotation of each grain's crystal frame
    seeds: np.ndarray  # (n_grains, 2) Voronoi seed points in [0, 1)^2

    @property
    def grid(self) -> int:
        return int(self.grain.shape[0])

    @property
    def n_grains(self) -> int:
        return int(self.angle.size)

    def pixel_angle(self) -> np.ndarray:
        """(N, N) orientation angle of every pixel."""
        return self.angle[self.grain]


def draw(rng: np.random.Generator, n_grains: int):
    """Seeds (n_grains, 2) and angles (n_grains,) in this fixed order."""
    if int(n_grains) < 1:
        raise ValueError(f"n_grains must be at least 1, got {n_grains}")
    seeds = rng.random((int(n_grains), 2))
    angle = rng.uniform(0.0, np.pi, size=int(n_grains))
    return seeds, angle


def voronoi(seeds: np.ndarray, grid: int) -> np.ndarray:
    """Periodic Voronoi grain map (grid, grid) of the unit square, via damask."""
    from mechanics._damask import damask

    grid = int(grid)
    if grid < 2:
        raise ValueError(f"grid must be at least 2 pixels per side, got {grid}")
    seeds = np.asarray(seeds, float)
    seeds3 = np.column_stack([seeds, np.full(len(seeds), 0.5 / grid)])
    geom = damask.GeomGrid.from_Voronoi_tessellation(np.array([grid, grid, 1]), np.array([1.0, 1.0, 1.0 / grid]),
                                                     seeds3, periodic=True)
    return np.asarray(geom.material[:, :, 0], dtype=np.int64)


def generate(rng: np.random.Generator, grid: int, n_grains: int) -> Microstructure:
    seeds, angle = draw(rng, n_grains)
    return Microstructure(voronoi(seeds, grid), angle, seeds)


def single_crystal(grid: int, angle: float = 0.0) -> Microstructure:
    """Every pixel in grain 0 with the given angle (for validation)."""
    return Microstructure(np.zeros((int(grid), int(grid)), np.int64), np.array([float(angle)]), np.zeros((1, 2)))


def for_case(case, grid: int | None = None) -> Microstructure:
    """The case's microstructure: config keys ``grid`` and ``n_grains``; ``grid`` may be overridden."""
    cfg = case.config
    return generate(case.rng("microstructure"), int(grid or cfg["grid"]), int(cfg["n_grains"]))
