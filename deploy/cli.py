"""rno-export: a trained RNO's model directory -> dependency-free source code (deploy.export).

    rno-export MODEL_DIR --format {vumat,umat,c,fortran} --out DIR [--input {F,strain}]
    rno-export PARAMS.json --format {jc-c,jc-fortran,jc-vumat} --out DIR     (a Johnson-Cook law, deploy.johnson_cook)
    rno-export PCA_DIR --format {pca-c,pca-fortran,pca-vumat} --out DIR   (a PCA-Net of deploy.pca_net.save)
    python -m deploy ...  (the same)
"""
from __future__ import annotations

import argparse
import sys

from .export import FORMATS, export, written


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, export, print the files written; 0 on success, 1 (message on stderr) if the format
    does not fit the model."""
    parser = argparse.ArgumentParser(
        prog="rno-export",
        description="Export a trained RNO (a model directory of learning.artifacts) to source code carrying its "
                    "weights: an ABAQUS VUMAT or UMAT (Fortran 2008), a C99 kernel or a Fortran 2008 kernel "
                    "module (docs/export.md).")
    parser.add_argument("model_dir", help="the model's directory (model.pt, config.json); for the jc-* formats a "
                                          "JSON file of Johnson-Cook parameters (mu, kappa, A, B, n, C, eps_dot_0); for pca-* a PCA-Net's directory "
                                          "(deploy.pca_net.save)")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS),
                        help="vumat: ABAQUS/Explicit; umat: ABAQUS/Standard; c: C99 kernel; fortran: kernel module; "
                             "jc-vumat, jc-c, jc-fortran: the same for a Johnson-Cook law; pca-c, pca-fortran, "
                             "pca-vumat: a PCA-Net (ref. [25]) with its input history in state variables")
    parser.add_argument("--out", required=True, help="output directory (created)")
    parser.add_argument("--input", choices=("F", "strain"), default=None,
                        help="the model's input (default: config.json data.input)")
    args = parser.parse_args(argv)
    try:
        paths = export(args.model_dir, args.format, args.out, input_name=args.input)
    except (ValueError, FileNotFoundError) as err:
        print(f"rno-export: {err}", file=sys.stderr)
        return 1
    print(written(paths))
    return 0
