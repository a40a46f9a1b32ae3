"""TF-MoDISco's h5 layout (as modisco-lite writes it), for seqsal's motifs: modisco-lite's
report and hit callers, and users' scripts written for them, read seqsal's motifs too.

The layout: ``pos_patterns`` and ``neg_patterns``, each with ``pattern_<k>`` groups holding
``sequence``, ``contrib_scores`` and ``hypothetical_contribs`` (each (L, 4), ACGT) and a
``seqlets`` group (``n_seqlets``, ``start``, ``end``, ``example_idx``, ``is_revcomp``, and
each seqlet's own ``sequence``, ``contrib_scores``, ``hypothetical_contribs``, (n, L, 4)).
``example_idx`` is the region's row in ``regions.bed``; ``start``/``end`` are 0-based
offsets in the region as the model read it (its own strand). seqsal adds one attribute,
``motif_id``, on each pattern group.
"""

from __future__ import annotations

from .atomic import atomic_path

SEQLET_KEYS = ("start", "end", "example_idx", "is_revcomp")
ARRAY_KEYS = ("sequence", "contrib_scores", "hypothetical_contribs")


def write_modisco_h5(patterns: list, path, *, window_size: int) -> None:
    """Write motifs in modisco-lite's h5 layout, atomically.

    Parameters
    ----------
    patterns : list of dict
        Per motif: ``motif_id``, ``sign`` (+1 or -1), the :data:`ARRAY_KEYS` as (L, 4)
        arrays, and ``seqlets``: a dict of the :data:`SEQLET_KEYS` (n,) and the
        :data:`ARRAY_KEYS` (n, L, 4).
    path : str or Path
    window_size : int
        The seqlet window (modisco-lite's ``window_size`` attribute).
    """
    import h5py
    import numpy as np

    def dataset(group, name, values):  # no object times: the same motifs, the same bytes
        group.create_dataset(name, data=values, track_times=False)

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs["window_size"] = window_size
        for group, sign in (("pos_patterns", 1), ("neg_patterns", -1)):
            chosen = [p for p in patterns if p["sign"] == sign]
            if not chosen:
                continue
            parent = h5.create_group(group)
            for k, pattern in enumerate(chosen):
                node = parent.create_group(f"pattern_{k}")
                node.attrs["motif_id"] = pattern["motif_id"]
                for key in ARRAY_KEYS:
                    dataset(node, key, np.asarray(pattern[key], np.float32))
                seqlets = node.create_group("seqlets")
                n = len(pattern["seqlets"]["start"])
                dataset(seqlets, "n_seqlets", np.array([n]))
                for key in SEQLET_KEYS:
                    dataset(seqlets, key, np.asarray(pattern["seqlets"][key]))
                for key in ARRAY_KEYS:
                    dataset(seqlets, key, np.asarray(pattern["seqlets"][key], np.float32))


def read_modisco_h5(path) -> list:
    """Read the patterns of a modisco-lite h5 file (seqsal's or modisco-lite's own).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    patterns : list of dict
        As :func:`write_modisco_h5` takes them; ``motif_id`` is the group's path
        (``pos_patterns/pattern_0``) where the file does not name one.
    """
    import h5py
    import numpy as np

    patterns = []
    with h5py.File(path, "r") as h5:
        for group, sign in (("pos_patterns", 1), ("neg_patterns", -1)):
            for name, node in h5[group].items() if group in h5 else []:
                if not isinstance(node, h5py.Group):
                    continue
                seqlets = node["seqlets"]
                patterns.append(
                    {
                        "motif_id": str(node.attrs.get("motif_id", f"{group}/{name}")),
                        "sign": sign,
                        **{key: np.asarray(node[key]) for key in ARRAY_KEYS},
                        "seqlets": {
                            key: np.asarray(seqlets[key])
                            for key in (*SEQLET_KEYS, *ARRAY_KEYS)
                            if key in seqlets
                        },
                    }
                )
    return patterns
