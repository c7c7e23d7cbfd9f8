# Draws the app icon (build/icon.png, 512x512): two overlapping rings on a blue rounded square. Pure Python
# (zlib + struct), so it needs nothing installed; run once, the PNG is committed.
import struct, zlib, math
N = 512
def px(x, y):
    r = 96; cx, cy = x - N / 2, y - N / 2
    qx, qy = max(abs(cx) - (N / 2 - r), 0), max(abs(cy) - (N / 2 - r), 0)
    if math.hypot(qx, qy) > r: return (0, 0, 0, 0)
    for ox in (-70, 70):
        d = math.hypot(cx - ox, cy)
        if 105 < d < 140: return (255, 255, 255, 255)
    return (36, 86, 201, 255)
rows = b''.join(b'\x00' + bytes(c for x in range(N) for c in px(x, y)) for y in range(N))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', N, N, 8, 6, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b'')
open('build/icon.png', 'wb').write(png)
