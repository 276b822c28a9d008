"""Tests that drive the real ``mailwiz`` program in a real terminal (tmux, and
tmux running ssh), with the keyboard only, as a person would."""
