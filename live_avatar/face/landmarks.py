"""Mediapipe face mesh (478 points with irises) on video frames and on still portraits."""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from live_avatar.face.crop import (
    Box,
    crop_square,
    landmarks_from_crop,
    turn_points,
    upright_turns,
)
from live_avatar.frames import check_rgb

NUM_LANDMARKS = 478


def _mediapipe_solutions():
    # Imported lazily: mediapipe is heavy and only some commands need it.
    os.environ.setdefault("GLOG_minloglevel", "2")  # quiet its C++ start-up chatter
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import mediapipe as mp

    return mp.solutions


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what native code writes to file descriptor 2 inside the block.

    mediapipe's C++ graph prints several log lines when a graph starts and on its first frame
    (before its logging is configured, so no setting turns them off); they would bury the
    app's own one-line messages.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (e.g. a detached process): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _to_pixels(face_landmarks, width: int, height: int) -> np.ndarray:
    points = np.array([(p.x, p.y, p.z) for p in face_landmarks.landmark], dtype=np.float32)
    # mediapipe's z uses roughly the x scale, so it is scaled by the width too
    points *= np.array([width, height, width], dtype=np.float32)
    return points


class FaceLandmarker:
    """Face-mesh landmarks of one face per frame.

    In video mode (`static_image=False`) mediapipe detects once and then tracks, re-detecting
    when tracking is lost; in image mode every call detects.
    """

    def __init__(
        self,
        static_image: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        with quiet_native_stderr():
            self._mesh = _mediapipe_solutions().face_mesh.FaceMesh(
                static_image_mode=static_image,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        # the first frames start the graph's detection and tracking parts, which log natively
        self._quiet_frames = 3

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        """Landmarks of the face in `image` (HxWx3 uint8 RGB).

        Returns (478, 3) float32 (x, y in pixels, z in pixels relative to the face centre),
        or None when no face is found.
        """
        check_rgb(image)
        if self._quiet_frames > 0:
            self._quiet_frames -= 1
            with quiet_native_stderr():
                result = self._mesh.process(np.ascontiguousarray(image))
        else:
            result = self._mesh.process(np.ascontiguousarray(image))
        if not result.multi_face_landmarks:
            return None
        height, width = image.shape[:2]
        return _to_pixels(result.multi_face_landmarks[0], width, height)

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def detect_face_boxes(image: np.ndarray, min_confidence: float = 0.4) -> list[Box]:
    """Face boxes in `image` (HxWx3 uint8 RGB), largest first, in pixels.

    Tries mediapipe's full-range model (small faces in large pictures), then the
    short-range one (close-ups), then the full-range model on overlapping tiles: the
    detector sees the picture at 192 px, where the face of a full-length portrait is a few
    pixels.
    """
    height, width = image.shape[:2]
    for model in (1, 0):
        with _face_detector(model, min_confidence) as detector:
            boxes = _detect(detector, image)
        if boxes:
            return boxes
    with _face_detector(1, min_confidence) as detector:
        for tiles in TILINGS:
            if max(height, width) / tiles < MIN_TILE_SIDE:
                break
            side = int(np.ceil(max(height, width) / tiles))
            step = max(side // 2, 1)  # half-overlapping tiles: every face lies whole in one
            boxes = []
            for y in range(0, max(height - step, 1), step):
                for x in range(0, max(width - step, 1), step):
                    for box in _detect(detector, image[y : y + side, x : x + side]):
                        boxes.append(Box(box.x + x, box.y + y, box.w, box.h))
            if boxes:
                return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)
    return []


#: tiles per side tried when the whole picture shows no face, and the smallest tile side
TILINGS = (2, 4)
MIN_TILE_SIDE = 320


@contextlib.contextmanager
def _face_detector(model: int, min_confidence: float):
    """Mediapipe's face detector (`model`: 0 short range, 1 full range)."""
    with quiet_native_stderr(), _mediapipe_solutions().face_detection.FaceDetection(
        model_selection=model, min_detection_confidence=min_confidence
    ) as detector:
        yield detector


def _detect(detector, image: np.ndarray) -> list[Box]:
    """The boxes `detector` finds in `image`, largest first, in its pixels."""
    height, width = image.shape[:2]
    result = detector.process(np.ascontiguousarray(image))
    boxes = []
    for detection in result.detections or []:
        rel = detection.location_data.relative_bounding_box
        x, y, w, h = rel.xmin * width, rel.ymin * height, rel.width * width, rel.height * height
        boxes.append(Box(x, y, w, h))
    return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


def find_portrait_landmarks(image: np.ndarray) -> np.ndarray | None:
    """Landmarks of the main face of a still portrait of any size (HxWx3 uint8 RGB).

    The face mesh's own detector misses small faces in large pictures, so the face is first
    boxed by the full-range detector, the mesh runs on a square crop around it, and the points
    are mapped back. A face on its side or upside down is fitted on the picture turned so
    that it is upright (see `_fit_turned_upright`). Returns (478, 3) float32 in `image`
    pixels, or None.
    """
    points = _fit_mesh(image)
    if (
        points is not None
        and upright_turns(points) == 0
        and fit_score(image, points) >= SURE_FIT
    ):
        return points
    return _fit_turned_upright(image, points)


def _fit_turned_upright(image: np.ndarray, points: np.ndarray | None) -> np.ndarray | None:
    """A fit of the picture turned by 1-3 quarter turns that finds the face upright, in
    place of `points`, the fit of the picture as it is (None: no face found), when that is
    not a sure, level fit (see fit_score).

    The mesh fits a face turned up to about 90 degrees; beyond that it returns a guess that
    takes the face for upright, and guesses may agree with each other. Where `points` finds
    the face on its side (or nowhere), a sure turned fit is taken, else one that another fit
    agrees with. Where `points` is level, it is kept unless a sure turned fit is agreed with
    by at least one other fit and by as many as agree with `points`: a covered mouth makes a
    right fit unsure, and the mesh's guess at the face upside down can then score as sure.
    """
    shape = image.shape[:2]
    level_now = points is not None and upright_turns(points) == 0
    fits = [] if points is None else [(0, points, level_now, False)]
    for turns in (1, 2, 3):
        turned = np.ascontiguousarray(np.rot90(image, turns))
        found = _fit_mesh(turned)
        if found is None:
            continue
        level = upright_turns(found) == 0
        sure = level and fit_score(turned, found) >= SURE_FIT
        fits.append((turns, _unturned(found, turns, shape), level, sure))

    def support(turns: int, found: np.ndarray) -> int:
        size = max(float(np.linalg.norm(found[10, :2] - found[152, :2])), 1.0)
        return sum(
            np.median(np.linalg.norm(other[:, :2] - found[:, :2], axis=1)) < SIDE_AGREES * size
            for other_turns, other, _, _ in fits
            if other_turns != turns
        )

    kept = support(0, points) if level_now else 0
    best, best_rank = None, None
    for turns, found, level, sure in fits:
        if turns == 0 or not level:
            continue
        agreed = support(turns, found)
        if (level_now and not (sure and agreed >= max(kept, 1))) or not (sure or agreed):
            continue
        if best_rank is None or (sure, agreed) > best_rank:
            best, best_rank = found, (sure, agreed)
    return points if best is None else best


def _fit_mesh(image: np.ndarray) -> np.ndarray | None:
    """The face mesh on a crop around the largest detected face (or on the whole picture)."""
    candidates = [b.square(scale=2.2) for b in detect_face_boxes(image)]
    height, width = image.shape[:2]
    # the whole picture as a last resort (close-ups the detector rejects)
    candidates.append(Box(0, 0, width, height).square(scale=1.0))
    with FaceLandmarker(static_image=True, min_detection_confidence=0.3) as landmarker:
        for box in candidates:
            side = 512
            crop = crop_square(image, box, side)
            points = landmarker(crop)
            if points is not None:
                return landmarks_from_crop(points, box, side)
    return None


# How sure the face detector is of a face turned upright by a fit, with its eyes, nose tip and
# mouth within FIT_AGREES face heights of the fit's, and surer of it than of the same crop
# upside down. On 27 portraits (paintings, a statue, photographs, 3-D cartoon stills) the
# right fits scored 0.85-0.95 and agreed within 0.08, their crops upside down at most 0.83.
# The mesh's guesses on the same pictures upside down agreed by 0.24 face heights and more,
# or scored up to 0.85 with the crop upside down (the face upright) scoring more. With the
# mouth covered, right fits scored 0 and guesses up to 0.85: see _fit_turned_upright.
SURE_FIT = 0.8
FIT_AGREES = 0.12
SIDE_AGREES = 0.1  # forehead-to-chin lengths: the most two fits of one face differ (median)
CHECK_SIDE = 192  # pixels of the upright crop the detector sees; the face fills half of it
# the mesh's points that match the detector's first four keypoints: the (subject's) right
# eye, left eye, nose tip and mouth centre
_KEYPOINT_MESH = ((33, 133, 159, 145), (263, 362, 386, 374), (1,), (13, 14))


def fit_score(image: np.ndarray, points: np.ndarray) -> float:
    """How sure the face detector is that the face-mesh fit `points` ((478, 2+) pixels) is a
    face in `image`: its score on the crop the fit turns upright, for a face whose keypoints
    agree with the fit (0 when none does, or when the crop upside down scores as much)."""
    import cv2

    xy = np.asarray(points, np.float64)[:, :2]
    eyes = xy[263] - xy[33]
    height = max(float(np.linalg.norm(xy[10] - xy[152])), 1.0)  # forehead to chin
    centre = xy.mean(axis=0)
    scale = CHECK_SIDE / (2.0 * height)
    turn = cv2.getRotationMatrix2D(
        (float(centre[0]), float(centre[1])), float(np.degrees(np.arctan2(eyes[1], eyes[0]))), scale
    )
    turn[:, 2] += CHECK_SIDE / 2 - centre
    crop = cv2.warpAffine(image, turn, (CHECK_SIDE, CHECK_SIDE), borderMode=cv2.BORDER_REPLICATE)
    upright = xy @ turn[:, :2].T + turn[:, 2]
    expected = np.array([upright[list(ids)].mean(axis=0) for ids in _KEYPOINT_MESH])
    # (the solution's min_detection_confidence does not filter its detections' scores)
    with _face_detector(0, 0.1) as detector:
        detections = detector.process(crop).detections or []
        upside_down = detector.process(np.ascontiguousarray(crop[::-1, ::-1])).detections or []
    best = 0.0
    for detection in detections:
        keypoints = detection.location_data.relative_keypoints[: len(_KEYPOINT_MESH)]
        found = np.array([(k.x, k.y) for k in keypoints]) * CHECK_SIDE
        if np.linalg.norm(found - expected, axis=1).max() <= FIT_AGREES * height * scale:
            best = max(best, float(detection.score[0]))
    # the detector takes some upside-down faces for faces too, but less surely than upright
    if any(float(d.score[0]) >= best for d in upside_down):
        return 0.0
    return best


def _unturned(points: np.ndarray, turns: int, shape: tuple[int, int]) -> np.ndarray:
    """Points found in np.rot90(image, turns) as points of `image` (of `shape` (H, W))."""
    turned_shape = shape if turns % 2 == 0 else shape[::-1]
    return turn_points(points, 4 - turns, turned_shape).astype(points.dtype)
