"""Preview drawing: the camera with crop box, landmarks, avatar overlay and alignment meter,
the output beside it, a one-line HUD and the on-screen key help."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from live_avatar.face.crop import Box, crop_square

PREVIEW_HEIGHT = 360  # height of each preview panel, pixels
HUD_HEIGHT = 24
GREEN, ORANGE, WHITE, GREY = (60, 220, 90), (255, 150, 40), (255, 255, 255), (40, 40, 40)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass
class HudState:
    """What the HUD line reports."""

    fps: float  # output frames per second, recent average
    latency_ms: float | None  # capture -> output, recent median; None before the first frame
    calibration: str  # 'auto', 'manual' or 'waiting for a face'
    avatar: str  # current avatar, e.g. '2/5 mona.jpg'
    face: bool  # a face is tracked now
    recording: bool  # a recording is running
    passthrough: bool  # the real camera goes out
    mirror: bool  # the camera image is mirrored


def hud_text(state: HudState) -> str:
    """The one HUD line."""
    latency = "-" if state.latency_ms is None else f"{state.latency_ms:.0f} ms"
    parts = [f"{state.fps:4.1f} fps", f"latency {latency}", f"calib {state.calibration}",
             f"avatar {state.avatar}"]
    if not state.face:
        parts.append("NO FACE")
    parts += [label for on, label in ((state.recording, "REC"), (state.passthrough, "PASS"),
                                      (state.mirror, "mirror")) if on]
    return " | ".join(parts) + " | h: keys"


def _scaled_box(box: Box, factor: float) -> tuple[int, int, int, int]:
    return (round(box.x * factor), round(box.y * factor), round((box.x + box.w) * factor),
            round((box.y + box.h) * factor))


def _blend_into_box(panel: np.ndarray, face: np.ndarray, box: tuple[int, int, int, int],
                    alpha: float) -> None:
    # paste `face` resized to the box, clipped to the panel, blended with what is there
    x0, y0, x1, y1 = box
    side = x1 - x0
    if side < 4:
        return
    resized = crop_square(face, Box(0, 0, face.shape[1], face.shape[0]), side)
    h, w = panel.shape[:2]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    region = panel[cy0:cy1, cx0:cx1]
    source = resized[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    panel[cy0:cy1, cx0:cx1] = cv2.addWeighted(region, 1 - alpha, source, alpha, 0)


def camera_panel(
    frame: np.ndarray,
    box: Box | None,
    landmarks: np.ndarray | None,
    overlay: np.ndarray | None = None,
    meter: float | None = None,
    height: int = PREVIEW_HEIGHT,
) -> np.ndarray:
    """The camera frame (HxWx3 uint8 RGB) scaled to `height`, with the crop box, every 4th
    landmark, the avatar's face `overlay` (square RGB) blended into the box, and the
    alignment `meter` (0..1) as a bar; returns a new height x W x 3 uint8 RGB image."""
    factor = height / frame.shape[0]
    panel = cv2.resize(frame, (round(frame.shape[1] * factor), height),
                       interpolation=cv2.INTER_AREA)
    if box is not None:
        corners = _scaled_box(box, factor)
        if overlay is not None:
            _blend_into_box(panel, overlay, corners, alpha=0.45)
        colour = GREEN if landmarks is not None else ORANGE
        cv2.rectangle(panel, corners[:2], corners[2:], colour, 2)
    if landmarks is not None:
        for x, y in (landmarks[::4, :2] * factor).astype(int):
            cv2.circle(panel, (int(x), int(y)), 1, GREEN, -1)
    if meter is not None:
        _draw_meter(panel, meter)
    return panel


def _draw_meter(panel: np.ndarray, value: float) -> None:
    # a bar at the top left: how closely the face matches the avatar's pose
    x, y, width, bar = 10, 10, 150, 12
    cv2.rectangle(panel, (x, y), (x + width, y + bar), GREY, -1)
    filled = int(width * min(max(value, 0.0), 1.0))
    colour = GREEN if value > 0.6 else ORANGE
    cv2.rectangle(panel, (x, y), (x + filled, y + bar), colour, -1)
    cv2.putText(panel, f"align {value * 100:.0f}%", (x + width + 6, y + bar - 1), FONT, 0.45,
                WHITE, 1, cv2.LINE_AA)


def preview_image(
    panel: np.ndarray,
    output: np.ndarray,
    state: HudState,
    help_rows: list[tuple[str, str]] | None = None,
) -> np.ndarray:
    """Camera panel and output side by side with the HUD line below and, when `help_rows`
    ((keys, description) pairs) are given, the key help over it; returns HxWx3 uint8 RGB."""
    from live_avatar.compose import side_by_side

    top = side_by_side([panel, output], panel.shape[0])
    strip = np.full((HUD_HEIGHT, top.shape[1], 3), 20, dtype=np.uint8)
    cv2.putText(strip, hud_text(state), (8, HUD_HEIGHT - 7), FONT, 0.5, WHITE, 1, cv2.LINE_AA)
    image = np.concatenate([top, strip], axis=0)
    if help_rows:
        _draw_help(image, help_rows)
    return image


def _draw_help(image: np.ndarray, rows: list[tuple[str, str]]) -> None:
    step = 20
    x0, y0 = 20, 20
    y1 = min(y0 + step * len(rows) + 16, image.shape[0] - 4)
    region = image[y0:y1, x0 : image.shape[1] - 20]
    region[:] = (region * 0.25).astype(np.uint8)  # darken so the text reads on any image
    for i, (keys, description) in enumerate(rows):
        y = y0 + 22 + i * step
        cv2.putText(image, keys, (x0 + 10, y), FONT, 0.5, GREEN, 1, cv2.LINE_AA)
        cv2.putText(image, description, (x0 + 100, y), FONT, 0.5, WHITE, 1, cv2.LINE_AA)
