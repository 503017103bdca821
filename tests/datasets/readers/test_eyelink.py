"""EyeLink .asc reader, on every .asc file in eyelink-samples, checked against the raw text."""

import re

import numpy as np
import pytest
from conftest import dataset_dir

from gazemodels.data import validate_fixations
from gazemodels.datasets.readers import read_asc
from gazemodels.errors import DatasetFormatError

ASC = {
    # file: (sampling rate, screen, tracked eye, END RES or None)
    "eyelink_monocular_example.asc": (1000.0, (1280, 1024), "left", (37.17, 37.75)),
    "eyelink_monocular_2khz_example.asc": (2000.0, (1280, 1024), "left", (37.17, 37.75)),
    "eyelink_binocular_example.asc": (1000.0, (1920, 1080), "binocular", (47.75, 45.92)),
    "eyelink_monocular_no_dummy_example.asc": (500.0, (1920, 1080), "left", None),
}


@pytest.fixture(scope="module")
def folder(shared_data):
    return dataset_dir(shared_data, "eyelink-samples")


def test_all_asc_files_are_covered(folder):
    assert sorted(p.name for p in folder.glob("*.asc")) == sorted(ASC)


@pytest.mark.parametrize("name", sorted(ASC))
def test_counts_against_the_raw_text(folder, name):
    text = (folder / name).read_text(encoding="latin-1").splitlines()
    rec = read_asc(folder / name)

    def count(prefix):
        return sum(1 for ln in text if ln.startswith(prefix))

    assert len(rec.fixations) == count("EFIX")
    assert len(rec.saccades) == count("ESACC")
    assert len(rec.blinks) == count("EBLINK")
    assert len(rec.messages) == count("MSG")
    assert len(rec.samples) == sum(1 for ln in text if ln[:1].isdigit())
    assert len(rec.inputs) == count("INPUT") + count("BUTTON")
    rate, screen, eye, res = ASC[name]
    md = rec.metadata
    assert md["sampling_rate"] == rate
    assert md["screen"] == screen
    assert md["tracked_eye"] == eye
    assert md["blocks"][0]["resolution"] == res
    assert md["pupil_type"] == "AREA"
    assert md["header"]["TYPE"] == "EDF_FILE BINARY EVENT SAMPLE TAGGED"
    # Every EFIX line's numbers are in the table, in file order.
    efix = [ln.split() for ln in text if ln.startswith("EFIX")]
    assert rec.fixations["t_start_tracker"].tolist() == [float(f[2]) for f in efix]
    assert rec.fixations["duration"].tolist() == [float(f[4]) for f in efix]
    assert rec.fixations["x"].tolist() == [float(f[5]) for f in efix]
    assert rec.fixations["y"].tolist() == [float(f[6]) for f in efix]


def test_monocular_1khz_fixation_by_hand(folder):
    rec = read_asc(folder / "eyelink_monocular_example.asc")
    # Line 120: "EFIX L   2154563	2154695	133	  141.0	  132.2	    791"; START at 2154556.
    f = rec.fixations.iloc[0]
    assert (f["eye"], f["t_start_tracker"], f["t_end_tracker"], f["duration"]) == ("left", 2154563, 2154695, 133)
    assert (f["x"], f["y"], f["pupil"], f["t_start"]) == (141.0, 132.2, 791.0, 7.0)
    # Its SFIX (line 99) follows "TRIALID 0" (line 77): stimulus "0", trial 0.
    assert (f["stimulus"], f["trial"], f["subject"]) == ("0", 0, "eyelink_monocular_example")
    g = rec.fixations.iloc[1]
    assert (g["stimulus"], g["trial"]) == ("3", 3)  # SFIX L 2339246 follows "TRIALID 3"
    s = rec.samples.iloc[0]  # "2154556	  138.1	  132.8	  778.0	    0.0	..."
    assert (s["time"], s["x_left"], s["y_left"], s["pupil_left"], s["input"], s["flags"]) == (
        2154556.0, 138.1, 132.8, 778.0, 0.0, "...")
    sac = rec.saccades.iloc[0]  # "ESACC L  2339227	2339245	19	  673.2	  523.8	  629.0	  531.4	   1.21	    103"
    assert sac[["duration", "x_start", "y_start", "x_end", "y_end", "amplitude", "peak_velocity"]].tolist() == [
        19, 673.2, 523.8, 629.0, 531.4, 1.21, 103]
    validate_fixations(rec.fixation_table())


def test_2khz_half_millisecond_times(folder):
    rec = read_asc(folder / "eyelink_monocular_2khz_example.asc")
    assert rec.samples["time"].iloc[0] == 2154556.5
    assert (rec.samples["time"] % 1 == 0.5).any()
    assert rec.fixations["duration"].tolist() == [132.5, 44.5]
    assert rec.fixations["duration"].iloc[0] == rec.fixations["t_end_tracker"].iloc[0] - rec.fixations[
        "t_start_tracker"].iloc[0] + 0.5  # end - start + one 0.5 ms sample


def test_binocular(folder):
    rec = read_asc(folder / "eyelink_binocular_example.asc")
    assert rec.eyes == ("left", "right")
    assert [c for c in rec.samples.columns if c not in ("flags", "block")] == [
        "time", "x_left", "y_left", "pupil_left", "x_right", "y_right", "pupil_right"]
    s = rec.samples.set_index("time")
    # "1408787	   .	   .	    0.0	  933.4	  568.2	  298.0	.C..."
    assert np.isnan(s.loc[1408787.0, "x_left"]) and s.loc[1408787.0, "x_right"] == 933.4
    assert s.loc[1408787.0, "flags"] == ".C..."
    fx = rec.fixations
    assert fx["eye"].tolist() == ["left", "right", "left", "right"]
    # The second pair starts after "TRIALID I902C_low"; the first pair precedes any TRIALID.
    assert fx["stimulus"].tolist() == ["eyelink_binocular_example"] * 2 + ["I902C_low"] * 2
    last = fx.iloc[3]  # "EFIX R   1408899	1409027	129	  945.6	  539.6	    318"
    assert last[["t_start_tracker", "duration", "x", "y", "pupil"]].tolist() == [1408899, 129, 945.6, 539.6, 318]
    assert rec.blinks[["eye", "duration"]].values.tolist() == [["right", 80.0], ["left", 97.0]]
    assert rec.metadata["screen_source"] == "GAZE_COORDS"  # no DISPLAY_COORDS; "1920.00 1080.00"
    assert rec.metadata["unterminated_events"] == [{"kind": "SACC", "eye": "left", "start": 1409026.0}]
    with pytest.raises(ValueError, match="pass eye="):
        rec.gaze()
    for eye in ("left", "right"):
        t = rec.fixation_table(eye)
        assert len(t) == 2 and validate_fixations(t) is t
    assert rec.gaze("right")["x"].iloc[0] == 960.5


def test_no_dummy_blinks_and_missing_samples(folder):
    rec = read_asc(folder / "eyelink_monocular_no_dummy_example.asc")
    assert rec.samples["x_left"].isna().sum() == sum(
        1 for ln in (folder / "eyelink_monocular_no_dummy_example.asc").read_text().splitlines()
        if re.match(r"^\d+\s+\.\s", ln))
    assert rec.fixations[["x", "y", "duration"]].values.tolist() == [[868.5, 698.4, 86.0], [708.1, 581.3, 326.0]]
    assert (rec.fixations["stimulus"] == "TEXT").all()
    assert rec.blinks["duration"].tolist() == [4604.0, 112.0]
    sac = rec.saccades.iloc[0]  # starts in a blink: ". ." start position
    assert np.isnan(sac["x_start"]) and sac["amplitude"] == 2.3e6
    assert rec.metadata["blocks"][0]["end"] is None  # the excerpt has no END line


# --- bad input ---------------------------------------------------------------------------

def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="latin-1")
    return p


def test_truncated_file_names_the_line(folder, tmp_path):
    text = (folder / "eyelink_binocular_example.asc").read_text(encoding="latin-1")
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("1408700"))
    cut = "\n".join(lines[:k] + [lines[k][:20]])  # cut in the middle of a sample line
    p = write(tmp_path, "cut.asc", cut)
    with pytest.raises(DatasetFormatError, match=rf"cut\.asc: line {k + 1}: sample line has 3 field\(s\), expected 7"):
        read_asc(p)


def test_truncated_event_line(folder, tmp_path):
    text = (folder / "eyelink_monocular_example.asc").read_text(encoding="latin-1")
    i = text.index("EFIX L   2154563")
    p = write(tmp_path, "cut_event.asc", text[: i + 25])
    with pytest.raises(DatasetFormatError, match=r"cut_event\.asc: line 120: EFIX line has 2 value\(s\), expected at least 6"):
        read_asc(p)


def test_malformed_number(folder, tmp_path):
    text = (folder / "eyelink_monocular_example.asc").read_text(encoding="latin-1")
    p = write(tmp_path, "bad.asc", text.replace("2154557\t  138.2", "2154557\t  13x.2"))
    with pytest.raises(DatasetFormatError, match=r"bad\.asc: line 97: sample field 'x_left' = '13x\.2' is not a number"):
        read_asc(p)
    p = write(tmp_path, "bad2.asc", text.replace("EFIX L   2339246\t2339290\t45", "EFIX L   2339246\t2339290\tforty"))
    with pytest.raises(DatasetFormatError, match=r"bad2\.asc: line 143: EFIX: 'forty' is not a number"):
        read_asc(p)


def test_file_of_another_kind(folder, tmp_path):
    with pytest.raises(DatasetFormatError, match=r"judo1000_example\.csv: line 1: not an EyeLink ASC line"):
        read_asc(folder / "judo1000_example.csv")
    p = write(tmp_path, "empty.asc", "\n\n")
    with pytest.raises(DatasetFormatError, match=r"empty\.asc: the file is empty"):
        read_asc(p)
    p = tmp_path / "rec.edf"
    p.write_bytes(b"SR_RESEARCH\x00\x01\x02" * 50)
    with pytest.raises(DatasetFormatError, match="edf2asc"):
        read_asc(p)


def test_samples_before_layout(tmp_path):
    p = write(tmp_path, "nolayout.asc", "START\t100 \tLEFT\tSAMPLES\tEVENTS\n100\t 1.0\t 2.0\t 3.0\t...\n")
    with pytest.raises(DatasetFormatError, match=r"nolayout\.asc: line 2: sample line before any SAMPLES line"):
        read_asc(p)


def test_non_strict_keeps_unknown_lines(folder, tmp_path):
    text = (folder / "eyelink_monocular_example.asc").read_text(encoding="latin-1")
    p = write(tmp_path, "extra.asc", text.replace("PRESCALER\t1", "PRESCALER\t1\nFOO\tbar", 1))
    with pytest.raises(DatasetFormatError, match=r"extra\.asc: line 89: not an EyeLink ASC line \('FOO\\tbar'\)"):
        read_asc(p)
    rec = read_asc(p, strict=False)
    assert rec.unparsed == [(89, "FOO\tbar")]
    assert len(rec.fixations) == 2


def test_offscreen_and_nan_fixations_are_reported(folder, tmp_path):
    text = (folder / "eyelink_monocular_example.asc").read_text(encoding="latin-1")
    p = write(tmp_path, "off.asc", text.replace("  638.5\t  531.8", "  1638.5\t  531.8"))
    rec = read_asc(p)
    rec.fixation_table()  # off-screen fixations are real: kept by default
    with pytest.raises(ValueError, match=r"off\.asc: 1 fixation\(s\) lie off their stimulus"):
        rec.fixation_table(allow_offscreen=False)
    p = write(tmp_path, "nanfix.asc", text.replace("  638.5\t  531.8", "  .\t  531.8"))
    with pytest.raises(ValueError, match=r"nanfix\.asc: 1 fixation\(s\) have NaN or infinite coordinates"):
        read_asc(p).fixation_table()
