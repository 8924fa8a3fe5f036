"""The live loop: camera -> face tracker/crop -> animator -> compositor -> sinks, with the
preview, hotkeys, calibration, avatar swapping and recording (orchestration and state only)."""

from __future__ import annotations

import signal
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from live_avatar import hotkeys
from live_avatar.calibration import Calibrator
from live_avatar.capture import FrameSource
from live_avatar.compose import Compositor
from live_avatar.config import LiveSettings
from live_avatar.console import about, say
from live_avatar.errors import NoFaceError, UserError
from live_avatar.face.crop import crop_square, landmarks_in_crop, upright_face_crop
from live_avatar.hud import HudState, camera_panel, preview_image
from live_avatar.sinks import Sink, open_sink, sink_kind
from live_avatar.timing import summarize
from live_avatar.tracking import FaceTracker

# side of the driving crop for animators that take any size
DEFAULT_DRIVING_SIZE = 256
# side of the avatar face crop kept for the overlay (and for animators that crop the avatar)
AVATAR_FACE_SIZE = 256


@dataclass
class Avatar:
    """A loaded portrait and its face."""

    path: Path
    image: np.ndarray  # HxWx3 uint8 RGB, the whole portrait
    landmarks: np.ndarray  # (478, 3) float32 face-mesh points in `image` pixels
    face: np.ndarray  # AVATAR_FACE_SIZE square uint8 RGB crop around the face


def load_avatar_with_face(path: Path) -> Avatar:
    """Load `path` and find its face; InputFileError / NoFaceError say what is wrong."""
    from live_avatar.avatars import load_avatar
    from live_avatar.face.landmarks import find_portrait_landmarks

    image = load_avatar(path)
    landmarks = find_portrait_landmarks(image)
    if landmarks is None:
        raise NoFaceError(
            f"no face found in avatar {path}: use a portrait with a visible face, or crop the "
            "picture tighter around the face"
        )
    face = upright_face_crop(image, landmarks, AVATAR_FACE_SIZE)
    return Avatar(Path(path), image, landmarks, face)


def avatar_for_animator(animator, avatar: Avatar) -> tuple[np.ndarray, np.ndarray | None]:
    """What `animator.set_avatar` takes: (image HxWx3 uint8 RGB, its landmarks or None). A
    square crop around the face at the model size for animators that crop (FOMM), else the
    whole portrait with the landmarks already found in it."""
    if not animator.crops_avatar:
        return avatar.image, avatar.landmarks
    side = animator.driving_size or AVATAR_FACE_SIZE
    return upright_face_crop(avatar.image, avatar.landmarks, side), None


class AvatarList:
    """The avatars to choose from (--avatar files, then the avatars folder). Each is loaded
    once; a swap is prepared in a background thread so the loop never stalls."""

    def __init__(self, files: list[str], folder: str | None):
        self.folder = Path(folder) if folder else None
        self.files = [self._resolve(Path(f)) for f in files]
        self.paths: list[Path] = []
        self._cache: dict[Path, Avatar] = {}
        self._pending: threading.Thread | None = None
        self._ready: tuple[Path, object] | None = None
        self.reload()

    def _resolve(self, path: Path) -> Path:
        # `--avatar emperor.png` may name a picture in the avatars folder
        if not path.exists() and self.folder is not None and (self.folder / path).is_file():
            return self.folder / path
        return path

    def reload(self) -> None:
        """Rescan: the explicit files (missing ones are an error) plus the folder's images."""
        from live_avatar.avatars import list_avatars

        found = list(self.files)
        if self.folder is not None and self.folder.is_dir():
            found += [p for p in list_avatars(self.folder) if p not in found]
        self.paths = found

    def load(self, path: Path) -> Avatar:
        """The avatar at `path`, loading it now if it is not cached."""
        if path not in self._cache:
            self._cache[path] = load_avatar_with_face(path)
        return self._cache[path]

    def request(self, path: Path, prepare: Callable[[Avatar], object]) -> bool:
        """Load `path` and run `prepare(avatar)` in the background; `take_ready()` hands over
        (path, (avatar, prepared)) or (path, UserError) later. False while one is pending."""
        if self._pending is not None and self._pending.is_alive():
            return False
        self._ready = None

        def work() -> None:
            try:
                avatar = self.load(path)
                self._ready = (path, (avatar, prepare(avatar)))
            except UserError as error:
                self._ready = (path, error)

        self._pending = threading.Thread(target=work, name="avatar-loader", daemon=True)
        self._pending.start()
        return True

    def take_ready(self) -> tuple[Path, object] | None:
        """What a `request` produced, once; None while it is still working."""
        ready, self._ready = self._ready, None
        return ready

    def wait(self) -> None:
        """Wait for a pending request (before closing)."""
        if self._pending is not None:
            self._pending.join()


class LossFader:
    """What to show when the face is lost: the last output for `hold` seconds, then a
    cross-fade to the neutral avatar over `ease` seconds (never a distorted frame)."""

    def __init__(self, hold: float, ease: float):
        self.hold, self.ease = hold, ease
        self.last: np.ndarray | None = None
        self._lost_since: float | None = None

    def found(self, output: np.ndarray) -> np.ndarray:
        self.last, self._lost_since = output, None
        return output

    def lost(self, now: float, neutral: np.ndarray) -> np.ndarray:
        if self.last is None or self.last.shape != neutral.shape:
            return neutral
        if self._lost_since is None:
            self._lost_since = now
        weight = min(max((now - self._lost_since - self.hold) / max(self.ease, 1e-6), 0.0), 1.0)
        if weight <= 0:
            return self.last
        if weight >= 1:
            return neutral
        return cv2.addWeighted(self.last, 1 - weight, neutral, weight, 0)

    def reset(self) -> None:
        self.last, self._lost_since = None, None


class Stats:
    """Output rate and end-to-end latency (capture timestamp -> frame handed to the sinks)."""

    def __init__(self, window: int = 60):
        self.latencies: list[float] = []  # seconds, every output frame from a new capture
        self._times: deque[float] = deque(maxlen=window)
        self._recent: deque[float] = deque(maxlen=window)
        self.frames = 0
        self.started = self.last = time.perf_counter()

    def add(self, now: float, captured: float | None) -> None:
        if self.frames == 0:
            self.started = now  # rates count from the first frame, not from start-up
        self.frames += 1
        self.last = now
        self._times.append(now)
        if captured is not None:
            latency = now - captured
            self._recent.append(latency)
            if len(self.latencies) < 100_000:  # bounded: a day-long run must not grow
                self.latencies.append(latency)

    @property
    def fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)

    @property
    def latency_ms(self) -> float | None:
        return statistics.median(self._recent) * 1000 if self._recent else None

    def summary(self) -> str:
        elapsed = self.last - self.started
        rate = (self.frames - 1) / max(elapsed, 1e-9)
        line = f"{self.frames} frames in {elapsed:.1f} s ({rate:.1f} fps)"
        if self.latencies:
            latency = summarize([seconds * 1000 for seconds in self.latencies])
            line += (f", latency median {latency['ms_median']:.0f} ms, "
                     f"p95 {latency['ms_p95']:.0f} ms")
        return line


PREVIEW_TITLE = "live-avatar preview"


def _backend_reason(name: str, settings) -> str:
    """Why `name` was chosen, for the start-up line."""
    if settings.backend != "auto":
        return "chosen with --backend"
    if name == "fomm":
        return f"checkpoint {settings.checkpoint} found and a CUDA GPU is available"
    if not Path(settings.checkpoint).is_file():
        return (f"no FOMM checkpoint at {settings.checkpoint}; the embedded face-mesh animator "
                "needs no weights")
    return ("a FOMM checkpoint is there but no CUDA GPU: FOMM is too slow on the CPU for live "
            "use (force it with --backend fomm)")


class LiveApp:
    """Runs the live loop. `run()` does everything; tests may call `open()`, `step()`,
    `handle_key()` and `close()` themselves (the same paths the window's keys take)."""

    def __init__(self, settings: LiveSettings):
        self.settings = settings
        self.mirror = settings.mirror  # flip the camera image
        self.passthrough = False  # send the camera image instead of the avatar
        self.overlay = False  # blend the avatar's face over the camera in the preview
        self.show_help = False  # key table over the preview
        self.running = False
        self.calibrator = Calibrator(settings.calibration)
        self.fader = LossFader(settings.tracking.hold_seconds, settings.tracking.ease_seconds)
        self.compositor = Compositor(settings.output.size, settings.output.background)
        self.stats = Stats()
        self.handlers = {action: getattr(self, action) for action in hotkeys.ACTIONS}
        self.sinks: list[Sink] = []
        self.preview = None
        self.recorder = None
        self.source = self.tracker = self.animator = self.avatar = self.avatars = None
        self.backend = ""  # the animator's registry name, chosen in open()
        self.avatar_index = 0
        self.neutral: np.ndarray | None = None
        self.last_output: np.ndarray | None = None
        self._view = None  # (camera image, Track) of the last frame, for the preview
        self._meter: float | None = None
        self._calibration = None  # (crop, landmarks) of the current neutral pose
        self._calibrate_requested = False
        self._camera_gap = False
        self._used_record_path = False
        self._terminated = False  # SIGTERM arrived

    # ---- set-up and tear-down -------------------------------------------------------------

    def open(self) -> None:
        """Load the first avatar and the animator, open the outputs, then the camera (last, so
        a video file does not play on while the models load)."""
        from live_avatar.animators import choose_backend

        self.avatars = AvatarList(self.settings.avatars, self.settings.avatars_dir)
        if not self.avatars.paths:
            raise UserError(f"no avatar: pass --avatar IMAGE or put portraits in "
                            f"{self.settings.avatars_dir}")
        first = self.avatars.load(self.avatars.paths[0])
        options = self.settings.animator
        self.backend = choose_backend(options.backend, options.checkpoint, options.device)
        self._adopt(first, self._new_animator(first))
        say(f"animator: {self.backend} ({_backend_reason(self.backend, options)})")
        self.tracker = FaceTracker(self.settings.tracking)
        self._open_outputs()
        self.source = FrameSource(self.settings.capture)
        self.running = True

    def _new_animator(self, avatar: Avatar):
        """A fresh animator holding `avatar` (built whole, so a swap can be prepared in the
        background while the current one keeps animating)."""
        from live_avatar.animators import MotionOptions, create_animator

        options = self.settings.animator
        motion = MotionOptions(relative=options.relative, adapt_scale=options.adapt_scale)
        if self.backend == "fomm":
            animator = create_animator("fomm", checkpoint=options.checkpoint,
                                       config=options.config, device=options.device,
                                       fp16=options.fp16, motion=motion)
        else:
            animator = create_animator(self.backend, motion=motion)
        try:
            with about(avatar.path):
                animator.set_avatar(*avatar_for_animator(animator, avatar))
        except BaseException:
            animator.close()
            raise
        return animator

    def _adopt(self, avatar: Avatar, animator) -> None:
        """Make `animator` (holding `avatar`) the current one; the old one is closed."""
        previous, self.animator = self.animator, animator
        self.avatar = avatar
        paths = self.avatars.paths
        self.avatar_index = paths.index(avatar.path) if avatar.path in paths else 0
        self.calibrator.set_avatar_landmarks(avatar.landmarks)
        self.neutral = animator.neutral()
        self.compositor.set_avatar(self.neutral)
        self.fader.reset()
        if self._calibration is not None:
            animator.calibrate(*self._calibration)  # keep the user's neutral pose
        if previous is not None:
            previous.close()

    def _open_outputs(self) -> None:
        from live_avatar.errors import VirtualCameraError
        from live_avatar.sinks.window import WindowSink

        out = self.settings.output
        for spec in out.outputs:
            sink_kind(spec)  # an unknown output is an error before anything opens
        for spec in out.outputs:
            try:
                sink = open_sink(spec, out.size, out.fps, vcam_device=out.vcam_device,
                                 vcam_backend=out.vcam_backend, title="live-avatar output")
            except VirtualCameraError as error:
                say(f"{error} -- continuing without the virtual camera")
                continue
            self.sinks.append(sink)
            say(f"output: {sink.describe()}")
        if self.settings.preview:
            try:
                self.preview = WindowSink(out.size, out.fps, title=PREVIEW_TITLE)
            except UserError as error:
                say(f"no preview: {error}")
        if out.record:
            self.toggle_recording()
        if not self.sinks and self.preview is None and self.recorder is None:
            raise UserError("no output could be opened: use --output FILE.mp4 or none, or fix "
                            "the virtual camera as said above")

    def close(self) -> None:
        """Finish the recording and every output, release the camera; idempotent."""
        self.running = False
        if self.recorder is not None:
            self.toggle_recording()
        if self.avatars is not None:
            self.avatars.wait()
            ready = self.avatars.take_ready()
            if ready is not None and not isinstance(ready[1], UserError):
                ready[1][1].close()  # an animator prepared but never used
        for part in [*self.sinks, self.preview, self.source, self.tracker, self.animator]:
            if part is None:
                continue
            try:
                part.close()
            except UserError as error:
                say(str(error))
        self.sinks, self.preview, self.source, self.tracker, self.animator = [], None, None, None, None

    # ---- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        """Open everything, loop until q / Esc / Ctrl-C / SIGTERM / --max-frames / end of a
        file, then finalise the outputs. Returns the exit status."""
        previous = self._catch_sigterm()
        try:
            self.open()
            self.running = not self._terminated
            if self.running:
                say("running: press h in the preview for the keys, q to quit" if self.preview
                    else "running: Ctrl-C to stop")
            period = 1.0 / max(self.settings.output.fps, 1e-3)
            while self.running:
                started = time.perf_counter()
                if not self.step():
                    break
                # pace the output to --fps; the next step then takes the newest frame
                wait = started + period - time.perf_counter()
                if wait > 0 and self.running:
                    time.sleep(wait)
        finally:
            self.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if self.stats.frames:
                say(self.stats.summary())
        return 0

    def _catch_sigterm(self):
        # SIGTERM ends the loop like q, so recordings are finalised (main thread only)
        if threading.current_thread() is not threading.main_thread():
            return None

        def stop(signum, frame) -> None:
            self.running = False
            self._terminated = True  # also when it comes while the models are still loading

        return signal.signal(signal.SIGTERM, stop)

    def step(self) -> bool:
        """Process the newest camera frame and send one output frame; False when done."""
        self._swap_ready_avatar()
        frame = self.source.next_frame(timeout=0.5)
        if frame is None:
            if self.source.finished:
                return False
            self._report_gap()
            if self.last_output is not None:
                self._emit(self.last_output, None)  # keep the outputs alive with the last frame
            return self.running
        if self._camera_gap:
            self._camera_gap = False
            say("camera is back")
        self._emit(self.compositor(self._process(frame)), frame.timestamp)
        limit = self.settings.max_frames
        return self.running and not (limit and self.stats.frames >= limit)

    def _report_gap(self) -> None:
        if not self._camera_gap and self.source.lost:
            self._camera_gap = True
            say("the camera stopped sending frames: keeping the last frame and retrying "
                "(check the cable)")

    def _process(self, frame) -> np.ndarray:
        """Camera frame -> the picture to send (animated avatar, camera, or a held frame)."""
        image = np.ascontiguousarray(frame.image[:, ::-1]) if self.mirror else frame.image
        track = self.tracker.update(image, frame.timestamp)
        self._view = (image, track)
        decision = self.calibrator.observe(track.landmarks, frame.timestamp)
        self._meter = decision.alignment
        if self.passthrough:
            return image
        if not track.found:
            return self.fader.lost(frame.timestamp, self.neutral)
        side = self.animator.driving_size or DEFAULT_DRIVING_SIZE
        crop = crop_square(image, track.box, side)
        points = landmarks_in_crop(track.landmarks, track.box, side)
        if self._calibrate_requested or decision.calibrate:
            self.animator.calibrate(crop, points)
            self._calibration = (crop, points)
            if self._calibrate_requested:
                self._calibrate_requested = False
                self.calibrator.manual()
                say("calibrated on the current frame")
        return self.fader.found(self.animator.animate(crop, points, frame.timestamp))

    def _emit(self, output: np.ndarray, captured: float | None) -> None:
        for sink in self.sinks:
            sink.write(output)
        if self.recorder is not None:
            self.recorder.write(output)
        self.stats.add(time.perf_counter(), captured)
        self.last_output = output
        if self.preview is not None or any(s.name == "window" for s in self.sinks):
            self._show_preview(output)
            self._poll_keys()

    def _show_preview(self, output: np.ndarray) -> None:
        if self.preview is None or self._view is None:
            return
        image, track = self._view
        panel = camera_panel(image, track.box, track.landmarks,
                             overlay=self.avatar.face if self.overlay else None,
                             meter=self._meter if self.calibrator.auto else None)
        self.preview.write(preview_image(panel, output, self._hud_state(track.found),
                                         hotkeys.help_rows() if self.show_help else None))

    def _hud_state(self, face: bool) -> HudState:
        return HudState(
            fps=self.stats.fps, latency_ms=self.stats.latency_ms,
            calibration=self.calibrator.state,
            avatar=f"{self.avatar_index + 1}/{len(self.avatars.paths)} {self.avatar.path.name}",
            face=face, recording=self.recorder is not None, passthrough=self.passthrough,
            mirror=self.mirror,
        )

    def _poll_keys(self) -> None:
        from live_avatar.sinks.window import poll_key

        self.handle_key(poll_key(1))
        windows = [s for s in self.sinks if s.name == "window"]
        if self.preview is not None:
            windows.append(self.preview)
        if any(window.closed for window in windows):
            self.running = False  # the user closed a window: same as q

    def handle_key(self, code: int) -> str | None:
        """Run the action bound to key `code` (the preview's keys come through here)."""
        return hotkeys.dispatch(code, self.handlers)

    def _swap_ready_avatar(self) -> None:
        ready = self.avatars.take_ready()
        if ready is None:
            return
        path, result = ready
        if isinstance(result, UserError):
            say(f"{result} -- keeping {self.avatar.path.name}")
            return
        self._adopt(*result)
        say(f"avatar {self.avatar_index + 1}/{len(self.avatars.paths)}: {path.name}")

    # ---- key actions (names as in hotkeys.KEYS) -------------------------------------------

    def calibrate(self) -> None:
        self._calibrate_requested = True  # done on the next frame with a face

    def choose_avatar(self, number: int) -> None:
        if not 1 <= number <= len(self.avatars.paths):
            say(f"no avatar {number}: there are {len(self.avatars.paths)}")
            return
        if not self.avatars.request(self.avatars.paths[number - 1], self._new_animator):
            say("still loading the previous avatar: press again in a moment")

    def next_avatar(self) -> None:
        self.choose_avatar((self.avatar_index + 1) % len(self.avatars.paths) + 1)

    def previous_avatar(self) -> None:
        self.choose_avatar((self.avatar_index - 1) % len(self.avatars.paths) + 1)

    def reload_avatars(self) -> None:
        self.avatars.reload()
        if self.avatar.path in self.avatars.paths:
            self.avatar_index = self.avatars.paths.index(self.avatar.path)
        say(f"{len(self.avatars.paths)} avatars")

    def toggle_overlay(self) -> None:
        self.overlay = not self.overlay

    def toggle_mirror(self) -> None:
        self.mirror = not self.mirror
        # the face jumps to the other side and its calibration no longer fits
        self.tracker.reset()
        self.calibrator.invalidate()
        self._calibration = None
        say(f"mirror {'on' if self.mirror else 'off'}")

    def toggle_passthrough(self) -> None:
        self.passthrough = not self.passthrough
        say(f"passthrough {'on' if self.passthrough else 'off'}")

    def toggle_recording(self) -> None:
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            try:
                recorder.close()
                say(f"recording saved: {recorder.path}" if recorder.frames
                    else "recording stopped before any frame: nothing saved")
            except UserError as error:
                say(str(error))
            return
        path = self._recording_path()
        out = self.settings.output
        self.recorder = open_sink(str(path), out.size, out.fps, audio=True,
                                  audio_device=out.audio_device)
        for note in self.recorder.notes:
            say(note)
        say(f"recording to {self.recorder.describe().removeprefix('file ')}")

    def _recording_path(self) -> Path:
        out = self.settings.output
        if out.record and not self._used_record_path:
            self._used_record_path = True
            return Path(out.record)
        folder = Path(out.record).parent if out.record else Path(out.record_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"live-avatar-{datetime.now():%Y%m%d-%H%M%S}"
        path, number = folder / f"{stem}.mp4", 1
        while path.exists():  # never overwrite an earlier take
            number += 1
            path = folder / f"{stem}-{number}.mp4"
        return path

    def toggle_help(self) -> None:
        self.show_help = not self.show_help

    def quit(self) -> None:
        self.running = False
