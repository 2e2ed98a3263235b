"""Image bytes to pixels, shared by image datasets (validated at upload) and image models (served).

Nothing here may run on a user's bytes inside the API process: Pillow's codecs are native code, so
callers decode in a sandboxed child process (the dataset validator, the serving decode pool).
"""
