"""Emergencies recognised as situations (combinations of concepts), and the answers that fit them."""

from bot.core.emergency.detect import Detection, Detector, build_detector

__all__ = ["Detection", "Detector", "build_detector"]
