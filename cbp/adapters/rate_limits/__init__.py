"""Rate limits counted by the ``limits`` package, in one process or shared through Redis."""
