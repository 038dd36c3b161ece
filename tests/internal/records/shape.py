"""Records of shape and layout: reshaping, joining, splitting, reordering, padding."""

from __future__ import annotations

import numpy as np

from . import Record

_M = ((3, 4),)
_NOGRAD = dict(grad=False)

RECORDS = [
    Record(covers=("numpy.reshape",), fn=lambda x: np.reshape(x, (4, -1)), shapes=_M),
    Record(
        covers=("numpy.reshape",),
        fn=lambda x: np.reshape(x, (2, 3, 2), order="F"),
        shapes=_M,
        id="numpy.reshape-F",
    ),
    Record(
        covers=("numpy.reshape",),
        fn=lambda x: np.reshape(x.T, (6, -1), order="A")[1:],  # Fortran-contiguous: F
        shapes=_M,
        id="numpy.reshape-A",
    ),
    Record(
        covers=("numpy.reshape",),
        fn=lambda x: np.reshape(x[:, 1:], (9,), order="F", copy=True),
        shapes=_M,
        id="numpy.reshape-F-copy",
    ),
    Record(covers=("numpy.ravel",), fn=lambda x: np.ravel(x, order="F"), shapes=_M),
    Record(
        covers=("numpy.transpose",), fn=lambda x: np.transpose(x, (2, 0, 1)), shapes=((2, 3, 4),)
    ),
    Record(covers=("numpy.moveaxis",), fn=lambda x: np.moveaxis(x, 0, -1), shapes=((2, 3, 4),)),
    Record(
        covers=("numpy.moveaxis",),
        fn=lambda x: np.moveaxis(x, [0, 1], [2, 0]),
        shapes=((2, 3, 4),),
        id="numpy.moveaxis-many",
    ),
    Record(covers=("numpy.swapaxes",), fn=lambda x: np.swapaxes(x, 0, 2), shapes=((2, 3, 4),)),
    Record(covers=("numpy.expand_dims",), fn=lambda x: np.expand_dims(x, (0, -1)), shapes=_M),
    Record(covers=("numpy.squeeze",), fn=lambda x: np.squeeze(x, axis=1), shapes=((3, 1, 4),)),
    Record(covers=("numpy.broadcast_to",), fn=lambda x: np.broadcast_to(x, (2, 3, 4)), shapes=_M),
    Record(
        covers=("numpy.concatenate",),
        fn=lambda x, y: np.concatenate([x, y], axis=1),
        shapes=((3, 4), (3, 2)),
    ),
    Record(
        covers=("numpy.concatenate",),
        fn=lambda x, y: np.concatenate((x, y), axis=None),
        shapes=((3, 4), (5,)),
        id="numpy.concatenate-flat",
    ),
    Record(
        covers=("numpy.concatenate",),
        fn=lambda x, y: np.concatenate([x, y], dtype=np.float64),
        shapes=((3,), (2,)),
        id="numpy.concatenate-dtype",
    ),
    Record(covers=("numpy.stack",), fn=lambda x, y: np.stack([x, y], axis=-1), shapes=_M * 2),
    Record(covers=("numpy.vstack",), fn=lambda x, y: np.vstack([x, y]), shapes=((4,), (2, 4))),
    Record(
        covers=("numpy.vstack",),
        fn=lambda x, y: np.vstack((x, y), dtype=np.float64),
        shapes=((3,), (3,)),
        id="numpy.vstack-dtype",
    ),
    Record(covers=("numpy.hstack",), fn=lambda x, y: np.hstack([x, y]), shapes=((3, 4), (3, 1))),
    Record(covers=("numpy.flip",), fn=lambda x: np.flip(x, axis=(0, 1)), shapes=_M),
    Record(covers=("numpy.fliplr",), fn=np.fliplr, shapes=_M),
    Record(covers=("numpy.flipud",), fn=np.flipud, shapes=_M),
    Record(covers=("numpy.roll",), fn=lambda x: np.roll(x, 2), shapes=_M),
    Record(
        covers=("numpy.roll",),
        fn=lambda x: np.roll(x, (1, -1), axis=(0, 1)),
        shapes=_M,
        id="numpy.roll-axes",
    ),
    Record(covers=("numpy.tile",), fn=lambda x: np.tile(x, (2, 1, 2)), shapes=_M),
    Record(covers=("numpy.repeat",), fn=lambda x: np.repeat(x, [1, 2, 0], axis=0), shapes=_M),
    Record(covers=("numpy.atleast_1d",), fn=lambda x: np.atleast_1d(np.sum(x)), shapes=_M),
    Record(covers=("numpy.atleast_2d",), fn=np.atleast_2d, shapes=((4,),)),
    Record(
        covers=("numpy.atleast_2d",),
        fn=lambda x, y: tuple(np.atleast_2d(np.sum(x), y)),
        shapes=((4,), (2, 3)),
        id="numpy.atleast_2d-many",
    ),
    Record(covers=("numpy.split",), fn=lambda x: tuple(np.split(x, 2, axis=1)), shapes=_M),
    Record(
        covers=("numpy.array_split",),
        fn=lambda x: tuple(np.array_split(x, [1, 3])),
        shapes=((5, 2),),
    ),
    Record(covers=("numpy.diff",), fn=lambda x: np.diff(x, n=2, axis=1, prepend=0.5), shapes=_M),
    Record(covers=("numpy.pad",), fn=lambda x: np.pad(x, ((1, 0), (2, 1))), shapes=_M),
    Record(
        covers=("numpy.pad",),
        fn=lambda x: np.pad(x, 1, mode="reflect"),
        shapes=_M,
        id="numpy.pad-reflect",
    ),
    Record(
        covers=("numpy.pad",),
        fn=lambda x: np.pad(x, ((0, 1), (1, 1)), constant_values=((1, 2), (3, 4))),
        shapes=_M,
        id="numpy.pad-constants",
    ),
    Record(
        covers=("numpy.shape", "numpy.ndim", "numpy.size"),
        fn=lambda x: (np.asarray(np.shape(x)), np.ndim(x), np.size(x), np.size(x, 1)),
        shapes=_M,
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.iscomplexobj", "numpy.isrealobj", "numpy.result_type"),
        fn=lambda x: (
            np.asarray([np.iscomplexobj(x), np.isrealobj(x), np.iscomplexobj(x + 1j * x)]),
            np.asarray([np.result_type(x, 1.0).itemsize, np.result_type(x, np.float64).itemsize]),
            np.asarray(np.result_type(x + 1j * x, 1).itemsize),
        ),
        shapes=_M,
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.unstack",),
        fn=lambda x: np.unstack(x) + np.unstack(x, axis=-1),
        shapes=_M,
    ),
    Record(covers=("numpy.copy",), fn=np.copy, shapes=_M),
    Record(
        covers=("numpy.block",),
        fn=lambda x, y, z: np.block([[x, y], [z]]),
        shapes=((2, 2), (2, 1), (1, 3)),
    ),
    Record(
        covers=("numpy.block",),
        fn=lambda x, y: np.block([x, 1.0, y[0], 2]),  # numbers are float64/int64 arrays
        shapes=((3,), (2,)),
        id="numpy.block-numbers",
    ),
    Record(
        covers=("numpy.block",),
        fn=lambda x, y: np.block([[[x]], [[y]]]),  # depth 3 beside 2-d blocks: 3-d
        shapes=((2, 2), (2, 2)),
        id="numpy.block-deep",
    ),
    Record(covers=("numpy.block",), fn=np.block, shapes=((2, 3),), id="numpy.block-array"),
    Record(
        covers=("numpy.apply_along_axis",),
        fn=lambda x: np.apply_along_axis(lambda v: np.sum(v**2), 1, x),  # scalar results
        shapes=((3, 4, 2),),
    ),
    Record(
        covers=("numpy.apply_along_axis",),
        fn=lambda x: np.apply_along_axis(lambda v: np.outer(v, v[:2]), 0, x),
        shapes=((3, 4),),  # a 2-d result: its axes where axis was
        id="numpy.apply_along_axis-matrix",
    ),
    Record(
        covers=("numpy.apply_along_axis",),
        fn=lambda x: np.apply_along_axis(np.cumsum, -1, x),
        shapes=((2, 3, 4),),
        id="numpy.apply_along_axis-vector",
    ),
    Record(
        covers=("numpy.apply_along_axis",),
        fn=lambda x: np.apply_along_axis(
            lambda v, p, scale: np.sum(np.abs(v) ** p) * scale, 0, x, 3, scale=0.5
        ),
        shapes=((4, 3),),
        id="numpy.apply_along_axis-args",
    ),
    Record(
        covers=("numpy.apply_along_axis",),
        fn=lambda x: np.apply_along_axis(np.argmax, 1, x),
        shapes=((3, 4),),
        grad=False,
        id="numpy.apply_along_axis-int",
    ),
]

# dstack, broadcast_arrays, resize, diagflat
RECORDS += [
    Record(
        covers=("numpy.dstack",),
        fn=lambda x, y: (
            np.dstack([x, y]),
            np.dstack((x[0], y[0] * 2.0)),
            np.dstack([x[0, 0], y[0, 0], 1.5]),
            np.dstack([x[:, :, None], y]),
        ),
        shapes=((3, 4), (3, 4)),
    ),
    Record(
        covers=("numpy.dstack",),
        fn=lambda x, y: np.dstack([x, y.astype(np.int8), x > 0]),
        shapes=((3, 4), (3, 4)),
        dtypes=("int64", "int16", "bool"),
        grad=False,
        id="numpy.dstack-ints",
    ),
    Record(
        covers=("numpy.broadcast_arrays",),
        fn=lambda x, y, z: (*np.broadcast_arrays(x, y, z), *np.broadcast_arrays(x), 2.0 * x),
        shapes=((3, 1), (4,), (1, 1)),
    ),
    Record(
        covers=("numpy.resize",),
        fn=lambda x: (
            np.resize(x, (2, 5)),
            np.resize(x, 3),
            np.resize(x, np.int64(13)),
            np.resize(x, 0),
            np.resize(x[:0], (2, 2)),
            np.resize(x, (2, 0)),
        ),
        shapes=((2, 3),),
    ),
    Record(
        covers=("numpy.resize",),
        fn=lambda x: np.resize(x, (4, 4)),
        shapes=((2, 3),),
        dtypes=("int64", "bool"),
        grad=False,
        id="numpy.resize-ints",
    ),
    Record(
        covers=("numpy.diagflat",),
        fn=lambda x: (np.diagflat(x), np.diagflat(x, k=-1), np.diagflat(x[0], 2)),
        shapes=((2, 2),),
    ),
    Record(
        covers=("numpy.diagflat",),
        fn=lambda x: np.diagflat(x, 1),
        shapes=((3,),),
        dtypes=("int64", "bool"),
        grad=False,
        id="numpy.diagflat-ints",
    ),
]

# delete: ints, slices, integer arrays (negative, repeated), masks; a traced obj
RECORDS += [
    Record(
        covers=("numpy.delete",),
        fn=lambda x: (
            np.delete(x, 1, axis=0),
            np.delete(x, [0, 0, -1], axis=1),
            np.delete(x, slice(1, None, 2)),
            np.delete(x, np.array([True, False, True, False]), axis=-1),
            np.delete(x, []),
            np.delete(x, np.int64(-2)),
            np.delete(x, np.array([[1], [3]])),
            np.delete(x, np.argmax(x[0]), axis=1),
        ),
        shapes=((3, 4),),
    ),
    Record(
        covers=("numpy.delete",),
        fn=lambda x: np.delete(x, [2, 0], axis=1),
        shapes=((3, 4),),
        dtypes=("int64", "bool"),
        grad=False,
        id="numpy.delete-ints",
    ),
]

# insert: one block (a scalar index, a one-element list), several entries (a slice, a
# list with repeats and negatives, a mask), values traced and broadcast, a traced obj
RECORDS += [
    Record(
        covers=("numpy.insert",),
        fn=lambda x, v: (
            np.insert(x, 1, v[:3], axis=1),
            np.insert(x, [1], v[:2], axis=1),
            np.insert(x, [1, 3], v[:2], axis=1),
            np.insert(x, slice(0, 2), 5.0),
            np.insert(x, [0, 0, -1, 4], v[:4], axis=-1),
            np.insert(x, 3, v[0], axis=0),
            np.insert(x, np.array([False, True, False]), v[:4], axis=0),
            np.insert(x, [], v[:1]),
            np.insert(x, np.argmax(v), v[:1], axis=1),
        ),
        shapes=((3, 4), (4,)),
    ),
    Record(
        covers=("numpy.insert",),
        fn=lambda x, v: (np.insert(x, [1, 1], v[:2] * 2.5, axis=1), np.insert(x, 2, 9)),
        shapes=((3, 4), (4,)),
        dtypes=("int64", "int16", "bool"),
        grad=False,
        id="numpy.insert-ints",
    ),
    Record(
        covers=("numpy.ediff1d",),
        fn=lambda x, y: (np.ediff1d(x), np.ediff1d(x[0], to_begin=2.5, to_end=y[1])),
        shapes=((3, 4), (3, 4)),
    ),
    Record(
        # the edges are cast to the input's dtype (NumPy's same_kind check)
        covers=("numpy.ediff1d",),
        fn=lambda x: np.ediff1d(x, to_end=[1, 2], to_begin=np.float64(0.5)),
        shapes=((3, 4),),
        id="numpy.ediff1d-cast-edges",
    ),
    Record(
        covers=("numpy.ediff1d",),
        fn=lambda x: np.ediff1d(x, to_begin=[3, 4]),
        shapes=((3, 4),),
        dtypes=("int64", "int16"),
        grad=False,
        id="numpy.ediff1d-ints",
    ),
]
