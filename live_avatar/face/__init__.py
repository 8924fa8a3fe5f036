"""Face detection, face-mesh landmarks and the crop geometry around them."""
