"""``gazemodels predict``: generate scanpaths for a folder of images with a scanpath model.

The output is a standard fixation table (:mod:`gazemodels.data.schema`) that
``gazemodels score --pred`` reads directly; the settings (model, seed, sizes,
time per image) also go to ``<out>.json`` because a CSV cannot carry the
table's ``attrs``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
"""File endings treated as images in ``--images``."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``predict`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level sub-parsers.
    """
    p = sub.add_parser(
        "predict",
        help="generate scanpaths for a folder of images with a scanpath model",
        description="Generate N scanpaths per image with a registered scanpath model (neva, nevaclip, "
        "centre, saliency, random, human-shuffled, ...) or a fitted model saved as .pt, and write a "
        "fixation table that `gazemodels score` reads. The settings and the time per image go to "
        "<out>.json.",
    )
    p.add_argument("--model",
                   help="registered model name (see --list) or the path of a fitted model .pt file")
    p.add_argument("--list", action="store_true", help="list the registered scanpath models and exit")
    p.add_argument("--images", help="folder of images (" + ", ".join(IMAGE_SUFFIXES[:4]) + ", ...)")
    p.add_argument("--n-scanpaths", type=int, default=15, help="scanpaths per image (default 15)")
    p.add_argument("--n-fixations", type=int, default=10, help="fixations per scanpath (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output fixation table (.csv, .csv.gz or .parquet)")
    p.add_argument("--caption-file", help="CSV with columns stimulus,caption (one caption per image file "
                   "name); required by caption-driven models such as nevaclip")
    p.add_argument("--px-per-degree", type=float, default=24.0,
                   help="pixels per degree of visual angle of the images as shown (default 24, as OSIE)")
    p.add_argument("--fit-fixations", help="human fixation table to fit the model on first "
                   "(centre density, human-shuffled scanpaths, the duration model)")
    p.add_argument("--fit-screen", help="WIDTHxHEIGHT (px) of human-data stimuli that are not in --images")
    p.add_argument("--save-model", help="save the (fitted) model to this .pt file, for a later --model PATH")
    p.add_argument("--batch-size", type=int, default=8, help="images per model call (default 8)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="model parameter, repeatable, e.g. --param method=itti_koch")
    p.set_defaults(func=_predict)


def _list_images(folder: str) -> list[Path]:
    d = Path(folder)
    if not d.is_dir():
        raise FileNotFoundError(f"--images {d}: no such folder")
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"--images {d}: the folder has no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def image_stimuli(files: list[Path], px_per_degree: float):
    """Stimulus table of image files, reading each image fully so that a bad file fails here.

    Parameters
    ----------
    files : list of Path
        Image files; the ``stimulus`` identifier is the file name.
    px_per_degree : float
        Pixels per degree for every image.

    Returns
    -------
    pandas.DataFrame
        ``stimulus, path, width, height, px_per_degree``.

    Raises
    ------
    gazemodels.models.scanpath.base.ImageReadError
        Naming the first unreadable file.
    """
    import pandas as pd

    from gazemodels.models.scanpath.base import load_image

    rows = []
    for f in files:
        img = load_image(f)
        rows.append({"stimulus": f.name, "path": str(f), "width": float(img.shape[1]),
                     "height": float(img.shape[0]), "px_per_degree": float(px_per_degree)})
    return pd.DataFrame(rows)


def _read_captions(path: str, stimuli):
    import pandas as pd

    from gazemodels.errors import DatasetFormatError

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--caption-file {p}: no such file")
    try:
        cap = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DatasetFormatError(p, f"cannot be read as CSV: {e}") from None
    if not {"stimulus", "caption"} <= set(cap.columns):
        raise DatasetFormatError(p, f"needs columns stimulus,caption; it has {list(cap.columns)}")
    cap = cap[cap["caption"].str.strip() != ""]
    dup = cap["stimulus"][cap["stimulus"].duplicated()].tolist()
    if dup:
        raise DatasetFormatError(p, f"more than one caption for {dup[:5]}")
    by_name = dict(zip(cap["stimulus"], cap["caption"]))
    missing = [s for s in stimuli["stimulus"] if s not in by_name]
    if missing:
        raise DatasetFormatError(p, f"no caption for image(s) {missing[:8]}"
                                 + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    return stimuli.assign(caption=stimuli["stimulus"].map(by_name))


def _build_model(args, params: dict):
    from gazemodels.models import get_model, load_model

    spec = args.model
    looks_like_file = spec.endswith(".pt") or "/" in spec or Path(spec).is_file()
    if looks_like_file:
        if params:
            raise ValueError("--param cannot change a saved model; fit and save it again")
        model = load_model(spec)
    else:
        model = get_model(spec, **params)
    if not hasattr(model, "predict"):
        raise ValueError(f"--model {spec}: not a scanpath model")
    return model


def _fit(model, args, stimuli):
    import pandas as pd

    from gazemodels.cli.score import _parse_screen, read_fixation_table

    human = read_fixation_table(args.fit_fixations)
    fit_stimuli = stimuli[["stimulus", "path", "width", "height", "px_per_degree"]]
    others = sorted(set(human["stimulus"]) - set(fit_stimuli["stimulus"]))
    if others:
        screen = _parse_screen(args.fit_screen)
        if screen is None:
            raise ValueError(
                f"--fit-fixations {args.fit_fixations}: {len(others)} stimulus/stimuli are not in --images "
                f"(e.g. {others[:3]}); give their size with --fit-screen WIDTHxHEIGHT"
            )
        extra = pd.DataFrame({"stimulus": others, "path": None, "width": screen[0], "height": screen[1],
                              "px_per_degree": args.px_per_degree})
        fit_stimuli = pd.concat([fit_stimuli, extra], ignore_index=True)
    model.fit(human, fit_stimuli)


def _model_settings(model) -> dict:
    out = {}
    for k, v in vars(model).items():
        if isinstance(v, (bool, int, float, str)) or v is None:
            out[k] = v
    return out


def _predict(args) -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from gazemodels import __version__
    from gazemodels.cli.score import _parse_params, _write_table
    from gazemodels.models import list_models, save_model
    from gazemodels.models.scanpath.base import check_predict_args

    if args.list:
        from gazemodels.models import get_model_spec

        for name in list_models("scanpath"):
            print(f"{name:<16} {get_model_spec(name).summary}")
        return 0
    if not args.model or not args.images or not args.out:
        raise ValueError("--model, --images and --out are required")
    check_predict_args(args.n_scanpaths, args.n_fixations, args.seed)
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.px_per_degree > 0:
        raise ValueError(f"--px-per-degree must be positive, got {args.px_per_degree}")

    model = _build_model(args, _parse_params(args.param))
    files = _list_images(args.images)
    stimuli = image_stimuli(files, args.px_per_degree)
    if getattr(model, "needs_caption", False):
        if not args.caption_file:
            raise ValueError(f"model {args.model} needs a caption per image: give --caption-file "
                             "(CSV with columns stimulus,caption)")
        stimuli = _read_captions(args.caption_file, stimuli)
    elif args.caption_file:
        print(f"gazemodels predict: warning: model {args.model} does not use captions; "
              f"--caption-file is ignored", file=sys.stderr)
    if args.fit_fixations:
        _fit(model, args, stimuli)
    if args.save_model:
        save_model(model, args.save_model)

    tables = []
    t0 = time.perf_counter()
    with tqdm(total=len(stimuli), unit="image", desc=f"predict {args.model}", file=sys.stderr) as bar:
        for start in range(0, len(stimuli), args.batch_size):
            batch = stimuli.iloc[start:start + args.batch_size]
            tables.append(model.predict(batch, n_scanpaths=args.n_scanpaths, n_fixations=args.n_fixations,
                                        seed=args.seed))
            bar.update(len(batch))
    elapsed = time.perf_counter() - t0
    out = pd.concat(tables, ignore_index=True)
    _write_table(out, args.out)
    per_image = elapsed / len(stimuli)
    meta = {
        "model": getattr(model, "name", "") or args.model,
        "model_arg": args.model,
        "settings": _model_settings(model),
        "seed": args.seed,
        "n_scanpaths": args.n_scanpaths,
        "n_fixations": args.n_fixations,
        "px_per_degree": args.px_per_degree,
        "images": str(args.images),
        "n_images": len(stimuli),
        "fit_fixations": args.fit_fixations,
        "seconds_per_image": per_image,
        "gazemodels_version": __version__,
    }
    Path(str(args.out) + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{len(out)} fixations: {args.n_scanpaths} scanpath(s) x {args.n_fixations} fixation(s) on "
          f"{len(stimuli)} image(s) written to {args.out}")
    print(f"time per image: {per_image:.3f} s ({elapsed:.1f} s for {len(stimuli)} image(s), model {args.model})")
    return 0
