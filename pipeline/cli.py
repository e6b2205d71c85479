"""rno-factory: the user's command (docs/cli.md). ``python -m pipeline.cli`` is the same.

    rno-factory run [--profile local|slurm] [--configfile FILE] [snakemake arguments]
    rno-factory ingest FILE [FILE ...] --out STORE.zarr [--format csv|npz|netcdf|zarr|damask]
    rno-factory train STORE.zarr --k 1 --out MODEL_DIR [--variant evp|ve] [--target stress|deviatoric|pressure]
    rno-factory predict MODEL_DIR PATHS_FILE --out PREFIX
    rno-factory export MODEL_DIR --format vumat|umat|c|fortran --out DIR
    rno-factory choose-k RESULTS_DIR [RESULTS_DIR ...] [--rel-gain 0.1] [--range-frac 0.05] [--out TABLE.csv]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("local", "slurm")

EPILOG = """examples:
  rno-factory run                                         # the default DAG on config.yaml, local profile
  rno-factory run --profile slurm --configfile config.paper.yaml
  rno-factory ingest paths.csv --out data/mine.zarr       # sample,time,eps11,sigma11 columns -> contract store
  rno-factory ingest run0.hdf5 run1.hdf5 --out data/damask.zarr   # DAMASK grid-solver results, one path each
  rno-factory train data/mine.zarr --k 1 --epochs 100 --out models/mine-k1
  rno-factory predict models/mine-k1 new_path.csv --out predictions/new   # new.csv, new.npz, new.png
  rno-factory export models/mine-k1 --format vumat --out vumat/
  rno-factory choose-k results --out results/tables/k_choice.csv

docs/cli.md describes every subcommand, the ingest formats and the rule that chooses k."""


def _run_argv(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The arguments of pipeline.run.main (Snakemake's) for ``rno-factory run``."""
    argv = ["--workflow-profile", str(ROOT / "workflow" / "profiles" / args.profile)]
    if args.configfile:
        argv += ["--configfile", str(args.configfile)]
    if args.cores:
        argv += ["--cores", str(args.cores)]
    if not (Path.cwd() / "Snakefile").exists() and not any(a in ("-s", "--snakefile") or a.startswith("--snakefile=")
                                                           for a in extra):
        argv += ["--snakefile", str(ROOT / "Snakefile"), "--directory", str(ROOT)]
    return argv + extra


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    """Snakemake on the project through pipeline.run (which recovers a killed run's stale lock)."""
    from . import run

    return run.main(_run_argv(args, extra))


def cmd_ingest(args: argparse.Namespace) -> int:
    from dataset.ingest import ingest

    out = ingest(args.files, args.out, fmt=args.format, producer=args.producer, case=args.case,
                 test_fraction=args.test_fraction)
    from dataset.store import open_metadata

    ds = open_metadata(out)
    print(f"{out}: {ds.sizes['sample']} samples ({ds.attrs['n_train']} train, {ds.attrs['n_test']} test), "
          f"{ds.sizes['time'] - 1} steps, input {ds.attrs['input']}, d = {ds.sizes['i']}")
    return 0


def _logging() -> None:
    import logging

    logger = logging.getLogger("rno-factory")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def cmd_train(args: argparse.Namespace) -> int:
    """Train one RNO on a contract store; write its model directory (learning.artifacts)."""
    import torch

    from dataset.store import open_store
    from learning import artifacts, fit, resolve_device, trajectories
    from learning.train import evaluate_error, split_validation

    from .studies import train_settings

    _logging()
    torch.set_num_threads(args.threads)
    ds = open_store(args.store)
    n_data = ds.sizes["time"] - 1
    steps = args.steps or n_data
    fields = {"k": args.k, "variant": args.variant, "target": args.target, "train_steps": steps,
              "seed": args.seed}
    for name in ("epochs", "hidden", "batch_size", "lr", "validation_fraction", "eval_every"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    settings = train_settings(**fields)
    train = trajectories(ds, "train", steps, settings.target)
    test = trajectories(ds, "test", steps, settings.target) if (ds["split"] == "test").any() else None
    n_fit, n_validation = (int(p.x.shape[0]) if p is not None else 0
                           for p in split_validation(train, settings.validation_fraction))
    out = Path(args.out)
    device = resolve_device(args.device)
    model, history = fit(train, settings, test=test, checkpoint=out / "checkpoint.pt", device=str(device))
    data = {"producer": ds.attrs["producer"], "case": ds.attrs["case"], "dataset": str(args.store),
            "case_hash": ds.attrs["case_hash"], "dataset_git_commit": ds.attrs["git_commit"],
            "input": train.input_name, "target": train.target, "n_train": n_fit, "n_validation": n_validation,
            "n_test": 0 if test is None else int(test.x.shape[0]), "train_steps": steps, "data_steps": n_data,
            "device": str(device), "init_from": None}
    artifacts.save(model, out, settings=settings.to_dict(), history=history, data=data)
    best = history[-1]["best_epoch"] or history[-1]["epoch"]
    row = history[best - 1]
    test_error = None if test is None else float(evaluate_error(model, test).mean())
    print(f"{out}: {settings.variant}-k{settings.k} ({settings.target}), model of epoch {best}: train error "
          f"{row['train_error']:.4e}, validation error "
          f"{'-' if row['validation_error'] is None else format(row['validation_error'], '.4e')}, test error "
          f"{'-' if test_error is None else format(test_error, '.4e')}")
    return 0


def _component_labels(target: str, d: int) -> list[str]:
    from learning.data import component_names

    if target == "pressure":
        return ["p"]
    prefix = "sigma" if target == "stress" else "dev_sigma"
    return [f"{prefix}{i + 1}{j + 1}" for i, j in component_names(d)]


def predict(model_dir: str | Path, paths_file: str | Path, out: str | Path, fmt: str | None = None) -> list[Path]:
    """Run a trained RNO on the loading paths of ``paths_file`` (dataset.ingest formats, stress optional); write
    <out>.csv (sample, time, the target's components in MPa, xi1..xik), <out>.npz (time, sample, stress
    (S, n, n_out) MPa, xi (S, n, k), components) and <out>.png (stress and xi against time, the file's stress dashed
    when given); returns the paths written."""
    import numpy as np
    import pandas as pd
    import torch

    from dataset.figstyle import figure, save_figure
    from dataset.ingest import IngestError, read_paths
    from learning import load
    from learning.artifacts import read_json
    from learning.data import target_components, to_components
    from learning.loss import relative_l2

    model = load(model_dir)
    config = read_json(model_dir, "config.json")
    model_input = config.get("data", {}).get("input")
    paths = read_paths(paths_file, fmt, need_stress=False)
    if model_input and paths.input_name != model_input:
        raise IngestError(f"{paths_file}: the file holds {paths.input_name!r}, the model {model_dir} was trained on "
                          f"{model_input!r}")
    x = to_components(paths.inputs)
    if x.shape[-1] != model.n_comp:
        raise IngestError(f"{paths_file}: {paths.input_name} has {x.shape[-1]} independent components (d = "
                          f"{paths.d}), the model takes {model.n_comp}")
    model = model.double()  # predictions in float64, as every reported error
    with torch.no_grad():
        stress, xi = model.rollout(torch.as_tensor(x, dtype=torch.float64),
                                   torch.as_tensor(paths.time, dtype=torch.float64))
    stress, xi = stress.numpy(), xi.numpy()
    labels = _component_labels(model.target, paths.d)
    S, n = x.shape[:2]
    table = {"sample": np.repeat(paths.sample, n), "time": np.tile(paths.time, S)}
    table.update({name: stress[..., m].ravel() for m, name in enumerate(labels)})
    table.update({f"xi{a + 1}": xi[..., a].ravel() for a in range(model.k)})
    out = Path(out)
    if out.suffix in (".csv", ".npz", ".png"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out.with_suffix(".csv"), out.with_suffix(".npz")]
    pd.DataFrame(table).to_csv(written[0], index=False, float_format="%.9g")
    np.savez(written[1], time=paths.time, sample=paths.sample, stress=stress, xi=xi, components=np.array(labels))
    truth = None if paths.stress is None else target_components(paths.stress, model.target)
    fig, axes = figure(1, 2, figsize=(9, 3.5))
    for s in range(min(S, 4)):
        for m, name in enumerate(labels):
            line, = axes[0].plot(paths.time, stress[s, :, m], lw=1,
                                 label=f"sample {paths.sample[s]} {name}" if S > 1 else name)
            if truth is not None:
                axes[0].plot(paths.time, truth[s, :, m], "--", lw=1, color=line.get_color())
        for a in range(model.k):
            axes[1].plot(paths.time, xi[s, :, a], lw=1, label=f"sample {paths.sample[s]} xi{a + 1}" if S > 1
                         else f"xi{a + 1}")
    axes[0].set(xlabel="time (s)", ylabel=f"{model.target} (MPa)",
                title="RNO (solid)" + (", file (dashed)" if truth is not None else ""))
    axes[1].set(xlabel="time (s)", ylabel="xi (1)", title=f"internal variables (k = {model.k})")
    for ax in axes:
        if ax.lines:
            ax.legend(fontsize=6)
    note = f"{model_dir} on {paths_file}" + (f" ({S} paths, first 4 drawn)" if S > 4 else "")
    if truth is not None:
        err = relative_l2(torch.as_tensor(stress), torch.as_tensor(truth), torch.as_tensor(paths.time),
                          torch.as_tensor(np.ones(1) if model.target == "pressure" else _weights(paths.d)))
        note += f"; mean relative L2 error (eq. 16) {float(err.mean()):.3%}"
    png = [p for p in save_figure(fig, out, note=note) if p.suffix == ".png"]
    out.with_suffix(".pdf").unlink(missing_ok=True)
    return written + png


def _weights(d: int):
    from learning.data import component_weights

    return component_weights(d)


def cmd_predict(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    for p in predict(args.model_dir, args.paths, args.out, args.format):
        print(p)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """rno-export with the same arguments (deploy.cli)."""
    from deploy import cli

    argv = [str(args.model_dir), "--format", args.format, "--out", str(args.out)]
    if args.input:
        argv += ["--input", args.input]
    return cli.main(argv)


def cmd_choose_k(args: argparse.Namespace) -> int:
    import pandas as pd

    from learning.choose_k import k_table

    table = k_table(args.results, rel_gain=args.rel_gain, range_frac=args.range_frac)
    if table.empty:
        print(f"no k-sweep with validation errors (history.json: validation_error) under "
              f"{', '.join(map(str, args.results))}: train with validation_fraction > 0 and at least two k",
              file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line of rno-factory."""
    from dataset.ingest import FORMATS

    p = argparse.ArgumentParser(prog="rno-factory", description="Data factory and recurrent neural operators "
                                "(Liu et al. 2023): run the workflow, bring in data, train, predict, export.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,ingest,train,predict,export,choose-k}")

    r = sub.add_parser("run", help="the Snakemake DAG (recovers a killed run's stale lock); unknown arguments go "
                       "to Snakemake", description="Run the workflow with a profile of workflow/profiles. "
                       "Arguments not listed here go to Snakemake, e.g. --dry-run, --forceall, targets.",
                       allow_abbrev=False)  # Snakemake's --config must not read as --configfile
    r.add_argument("--profile", choices=PROFILES, default="local", help="execution profile (default: local)")
    r.add_argument("--configfile", help="config (default: config.yaml; paper scale: config.paper.yaml)")
    r.add_argument("--cores", help="cores for local jobs (default: the profile's, all)")

    i = sub.add_parser("ingest", help="outside data (CSV, NPZ, NetCDF, Zarr, DAMASK) -> a contract store",
                       description="Convert outside loading paths and stresses into a validated contract store "
                       "(docs/cli.md, 'Ingest formats').")
    i.add_argument("files", nargs="+", help="the input file(s); several only for DAMASK results (one path each)")
    i.add_argument("--out", required=True, help="the store to write (.zarr)")
    i.add_argument("--format", choices=FORMATS, help="default: from the suffix")
    i.add_argument("--producer", default="external", help="attrs producer (default: external)")
    i.add_argument("--case", help="attrs case (default: the first file's name)")
    i.add_argument("--test-fraction", type=float, default=0.2,
                   help="without a split in the file: the last fraction of samples (by id) is 'test' (default 0.2)")

    t = sub.add_parser("train", help="train an RNO on a contract store -> a model directory",
                       description="Train one RNO (learning.train.fit) with the project's default settings "
                       "(pipeline/schemas/learning.schema.yaml) changed as given.")
    t.add_argument("store", help="a contract store (.zarr)")
    t.add_argument("--k", type=int, required=True, help="number of internal variables")
    t.add_argument("--variant", choices=("evp", "ve"), default="evp")
    t.add_argument("--target", choices=("stress", "deviatoric", "pressure"), default="stress")
    t.add_argument("--epochs", type=int)
    t.add_argument("--hidden", type=int, nargs="+", help="hidden layer widths (default 100 100 100 100)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--validation-fraction", type=float)
    t.add_argument("--eval-every", type=int)
    t.add_argument("--steps", type=int, help="training resolution (divides the stored steps; default: as stored)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    t.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    t.add_argument("--out", required=True, help="the model directory to write")

    pr = sub.add_parser("predict", help="a trained RNO on a path file -> stress and xi vs time (CSV, NPZ, PNG)",
                        description="Predict stress and internal variables for the loading paths of a file (ingest "
                        "formats; stress columns optional, drawn dashed when given).")
    pr.add_argument("model_dir")
    pr.add_argument("paths", help="path file (CSV, NPZ, NetCDF, Zarr)")
    pr.add_argument("--out", required=True, help="output prefix: writes PREFIX.csv, PREFIX.npz, PREFIX.png")
    pr.add_argument("--format", choices=FORMATS, help="default: from the suffix")
    pr.add_argument("--threads", type=int, default=1)

    e = sub.add_parser("export", help="a model directory -> VUMAT/UMAT/C/Fortran (as rno-export)",
                       description="Same as rno-export (docs/export.md).")
    e.add_argument("model_dir")
    e.add_argument("--format", required=True, choices=("c", "fortran", "umat", "vumat"))
    e.add_argument("--out", required=True)
    e.add_argument("--input", choices=("F", "strain"))

    c = sub.add_parser("choose-k", help="choose k from k-sweeps' validation errors (learning.choose_k)",
                       description="The k-choice table of every k-sweep under the results folder(s), from the "
                       "validation errors in history.json (never the test errors).")
    c.add_argument("results", nargs="+", help="results folder(s) (one per seed, or one with all)")
    c.add_argument("--rel-gain", type=float, default=0.1,
                   help="relative error gain per added internal variable that still counts (default 0.1)")
    c.add_argument("--range-frac", type=float, default=0.05,
                   help="share of the sweep's whole error drop an improvement must reach (default 0.05)")
    c.add_argument("--out", help="write the table as CSV")
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse and run a subcommand; 0 on success, 1 with a one-line message on stderr for a user error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser().parse_known_args(argv)
    if extra and args.command != "run":
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    from dataset.contract import ContractError
    from dataset.store import StoreReadError

    try:
        if args.command == "run":
            return cmd_run(args, extra)
        return {"ingest": cmd_ingest, "train": cmd_train, "predict": cmd_predict, "export": cmd_export,
                "choose-k": cmd_choose_k}[args.command](args)
    except (ValueError, ContractError, StoreReadError, FileNotFoundError) as err:
        print(f"rno-factory {args.command}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
