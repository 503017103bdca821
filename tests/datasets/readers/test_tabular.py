"""Generic CSV/TSV fixation reader and writer: column mapping, units, round trip, bad input."""

import gzip

import numpy as np
import pandas as pd
import pytest
from conftest import dataset_dir

from gazemodels.data import validate_fixations
from gazemodels.datasets.readers import read_fixations, write_fixations
from gazemodels.datasets.readers.tabular import _parquet_engine
from gazemodels.errors import DatasetFormatError

GAZEPOINT = (
    "USER,MEDIA_NAME,FPOGX,FPOGY,FPOGD,FPOGV\n"
    "u1,page.png,0.5,0.25,0.2,1\n"
    "u2,page.png,0.1,0.1,0.15,1\n"
    "u1,page.png,0.25,0.5,0.3,1\n"
    "u2,page.png,0.9,0.9,,0\n"
)
MAP = {"x": "FPOGX", "y": "FPOGY", "duration": "FPOGD", "subject": "USER", "stimulus": "MEDIA_NAME"}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def read_gp(p, **kw):
    args = dict(columns=MAP, units={"x": "norm", "y": "norm", "duration": "s"}, screen=(1920, 1080),
                defaults={"trial": 0})
    args.update(kw)
    return read_fixations(p, **args)


def test_mapping_units_and_fix_index_in_file_order(tmp_path):
    df = read_gp(write(tmp_path, "gp.csv", GAZEPOINT))
    assert list(df.columns[:8]) == ["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start", "duration"]
    assert df["x"].tolist() == [960.0, 192.0, 480.0, 1728.0]
    assert df["y"].tolist() == [270.0, 108.0, 540.0, 972.0]
    assert df["duration"].tolist()[:3] == pytest.approx([200.0, 150.0, 300.0])
    assert np.isnan(df["duration"].iloc[3]) and df["t_start"].isna().all()
    # Rows of u1 and u2 interleave; each scanpath is numbered in file order.
    assert df["fix_index"].tolist() == [0, 0, 1, 1]
    assert df["trial"].tolist() == [0, 0, 0, 0]
    assert df["FPOGV"].tolist() == [1, 1, 1, 0]  # unmapped column kept, typed
    assert "FPOGX" not in df.columns
    assert validate_fixations(df) is df


def test_degrees_and_one_based_index(tmp_path):
    p = write(tmp_path, "deg.tsv", "stimulus\tsubject\ttrial\tFixIdx\txd\tyd\tstart_us\n"
                                   "a\t1\t0\t1\t0\t0\t0\na\t1\t0\t2\t2\t1\t250000\n")
    df = read_fixations(p, columns={"fix_index": "FixIdx", "x": "xd", "y": "yd", "t_start": "start_us"},
                        units={"x": "deg", "y": "deg", "fix_index": "1-based", "t_start": "us"},
                        screen=(800, 600), px_per_degree=30.0)
    assert df["x"].tolist() == [400.0, 460.0]
    assert df["y"].tolist() == [300.0, 270.0]  # degrees up -> pixels down
    assert df["fix_index"].tolist() == [0, 1]
    assert df["t_start"].tolist() == [0.0, 250.0]
    assert df["subject"].dtype == np.int64 and df["stimulus"].tolist() == ["a", "a"]


@pytest.mark.parametrize("name", ["fx.csv", "fx.tsv", "fx.tsv.gz"])
def test_round_trip_text(tmp_path, name):
    df = pd.DataFrame({
        "stimulus": ["img 1.jpg", "img 1.jpg", "b,c.jpg"],
        "subject": [3, 3, 7],
        "trial": [0, 0, 2],
        "fix_index": [0, 1, 0],
        "x": [0.1 + 0.2, 511.123456789012, 1e-9],
        "y": [1 / 3, 2.0, 799.5],
        "t_start": [0.0, np.nan, 17.25],
        "duration": [250.0, 180.5, np.nan],
        "correct": [True, True, False],
        "rt": [1234.5, 1234.5, 987.0],
        "object": pd.array([2, pd.NA, 5], dtype="Int64"),
        "note": ["a", None, "c"],
    })
    p = write_fixations(df, tmp_path / name)
    back = read_fixations(p)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert back["x"].tolist() == df["x"].tolist()  # exact floats
    assert back["subject"].dtype == np.int64 and back["correct"].dtype == bool
    if name.endswith(".gz"):
        assert gzip.decompress(p.read_bytes()).startswith(b"stimulus\tsubject")


def test_identifiers_with_leading_zeros_stay_text(tmp_path):
    p = write(tmp_path, "ids.csv", "stimulus,subject,trial,x,y,code\n007,01,0,1,2,0.50\n007,01,0,3,4,01.5\n")
    df = read_fixations(p)
    assert df["stimulus"].tolist() == ["007", "007"] and df["subject"].tolist() == ["01", "01"]
    assert df["code"].tolist() == ["0.50", "01.5"] and df["fix_index"].tolist() == [0, 1]
    back = read_fixations(write_fixations(df, tmp_path / "ids2.csv"))
    pd.testing.assert_frame_equal(back, df)


def test_parquet_round_trip_or_clear_error(tmp_path):
    df = read_gp(write(tmp_path, "gp.csv", GAZEPOINT))
    if _parquet_engine() is None:
        with pytest.raises(ImportError, match="needs pyarrow or fastparquet"):
            write_fixations(df, tmp_path / "fx.parquet")
    else:
        p = write_fixations(df, tmp_path / "fx.parquet")
        back = read_fixations(p)
        pd.testing.assert_frame_equal(back, df, check_dtype=False)
        cut = tmp_path / "cut.parquet"
        cut.write_bytes(p.read_bytes()[:100])
        with pytest.raises(DatasetFormatError, match=r"cut\.parquet: not a readable Parquet file"):
            read_fixations(cut)


def test_detected_fixations_on_a_real_sample_file_round_trip(shared_data, tmp_path):
    from gazemodels.events import detect_fixations

    samples = pd.read_csv(dataset_dir(shared_data, "eyelink-samples") / "gaze-toy-example.csv")
    assert np.diff(samples["time"]).min() == 4.0  # 250 Hz
    fx = detect_fixations(samples, "idt", px_per_degree=35.0, stimulus="toy")  # 35 px/deg assumed
    assert len(fx) > 5
    back = read_fixations(write_fixations(fx, tmp_path / "toy.csv"))
    pd.testing.assert_frame_equal(back, fx, check_dtype=False)


# --- bad input ---------------------------------------------------------------------------

def test_sample_files_are_not_fixation_tables(shared_data):
    folder = dataset_dir(shared_data, "eyelink-samples")
    with pytest.raises(DatasetFormatError, match=r"judo1000_example\.csv: no column for \['x', 'y', 'stimulus', 'subject', 'trial'\].*columns are \['trialId', 'pointId', 'time', 'x_left'"):
        read_fixations(folder / "judo1000_example.csv")
    with pytest.raises(DatasetFormatError, match=r"gazebase_example\.csv: column 'FPOGX' \(mapped to 'x'\) is not in the file"):
        read_gp(folder / "gazebase_example.csv")


def test_missing_mapped_column(tmp_path):
    p = write(tmp_path, "gp.csv", GAZEPOINT.replace("FPOGD", "DUR"))
    with pytest.raises(DatasetFormatError, match=r"gp\.csv: column 'FPOGD' \(mapped to 'duration'\) is not in the file"):
        read_gp(p)


def test_missing_key_without_default(tmp_path):
    p = write(tmp_path, "gp.csv", GAZEPOINT)
    with pytest.raises(DatasetFormatError, match=r"gp\.csv: no column for \['trial'\]"):
        read_gp(p, defaults=None)


def test_unparsable_number_names_file_line_and_column(tmp_path):
    p = write(tmp_path, "gp.csv", GAZEPOINT.replace("0.1,0.1,0.15", "0.1,0.1x,0.15"))
    with pytest.raises(DatasetFormatError, match=r"gp\.csv: column 'FPOGY' \(-> y\): 1 value\(s\) are not numbers: line 3: '0\.1x'"):
        read_gp(p)


def test_truncated_and_malformed_rows(tmp_path):
    p = write(tmp_path, "gp.csv", GAZEPOINT[:-12])
    with pytest.raises(DatasetFormatError, match=r"gp\.csv: line 5: 2 field\(s\) where the header has 6"):
        read_gp(p)
    p = write(tmp_path, "q.csv", 'stimulus,subject,trial,x,y\n"a,1,0,1,2\n')
    with pytest.raises(DatasetFormatError, match=r"q\.csv: line 2: 1 field\(s\)"):
        read_fixations(p)
    p = write(tmp_path, "e.csv", "")
    with pytest.raises(DatasetFormatError, match=r"e\.csv: the file is empty"):
        read_fixations(p)
    p = tmp_path / "bin.csv"
    p.write_bytes(b"x,y\n\xff\xfe\x00\x01")
    with pytest.raises(DatasetFormatError, match=r"bin\.csv: not utf-8-sig text \(invalid byte at offset 4\)"):
        read_fixations(p)


def test_nan_and_offscreen_coordinates(tmp_path):
    p = write(tmp_path, "gp.csv", GAZEPOINT.replace("0.25,0.5,0.3", "nan,0.5,0.3"))
    with pytest.raises(DatasetFormatError, match=r"gp\.csv: 1 fixation\(s\) have a missing or infinite coordinate \(columns 'FPOGX', 'FPOGY'\) at line\(s\) 4"):
        read_gp(p)
    p = write(tmp_path, "gp2.csv", GAZEPOINT.replace("0.25,0.5,0.3", "1.25,0.5,0.3"))
    with pytest.raises(DatasetFormatError, match=r"gp2\.csv: 1 fixation\(s\) lie off the screen/stimulus .* line 4 \(x=2400, y=540\)"):
        read_gp(p)
    assert read_gp(p, allow_offscreen=True)["x"].max() == 2400.0
    stimuli = pd.DataFrame({"stimulus": ["page.png"], "width": [1000], "height": [1000]})
    with pytest.raises(DatasetFormatError, match=r"gp2\.csv: 2 fixation\(s\) lie off .* line 4 \(x=2400, y=540\); line 5 \(x=1728, y=972\)"):
        read_gp(p, stimuli=stimuli)


def test_broken_fix_index_names_lines(tmp_path):
    p = write(tmp_path, "fi.csv", "stimulus,subject,trial,fix_index,x,y\na,1,0,0,1,1\na,1,0,2,2,2\n")
    with pytest.raises(DatasetFormatError, match=r"fi\.csv: .*do not have contiguous fix_index"):
        read_fixations(p)
    p = write(tmp_path, "fi2.csv", "stimulus,subject,trial,fix_index,x,y\na,1,0,0.5,1,1\n")
    with pytest.raises(DatasetFormatError, match=r"fi2\.csv: line 2, column 'fix_index': fix_index must be an integer"):
        read_fixations(p)
    p = write(tmp_path, "neg.csv", "stimulus,subject,trial,x,y,duration\na,1,0,1,1,-5\n")
    with pytest.raises(DatasetFormatError, match=r"neg\.csv: .*negative duration: row 2"):
        read_fixations(p)


def test_contradictory_arguments(tmp_path):
    p = write(tmp_path, "gp.csv", GAZEPOINT)
    with pytest.raises(ValueError, match=r"defaults\['subject'\] given, but the file provides"):
        read_gp(p, defaults={"trial": 0, "subject": 1})
    with pytest.raises(ValueError, match="needs screen"):
        read_gp(p, screen=None)
    with pytest.raises(ValueError, match="must be one of"):
        read_gp(p, units={"duration": "minutes"})
