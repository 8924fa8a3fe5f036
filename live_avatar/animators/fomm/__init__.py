"""First Order Motion Model backend: networks (blocks, keypoint_detector, dense_motion,
generator), model/checkpoint loading, motion maths, the cached per-frame engine and its fast
rewrites, the original-step reference, and the animator (`animator.create`)."""
