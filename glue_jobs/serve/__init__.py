"""The serving table's stages and tools: what feeds it from what publish published (the serve
stage, the loader), and what reads and checks it (compare, rebuild, the HTTP API)."""
