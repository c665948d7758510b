"""Draw the home-screen icons of the web app (static/icons/icon-<size>.png): 安 on the brand red.

The glyph sits inside the central 80 % so the icons also serve as "maskable" (Android crops them
to a circle or a squircle). Run once when the design changes; the PNGs are committed."""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = (180, 35, 24)
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def draw(size: int) -> Image.Image:
    image = Image.new("RGB", (size, size), BRAND)
    canvas = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, int(size * 0.5))
    canvas.text((size / 2, size / 2), "安", font=font, fill="white", anchor="mm")
    return image


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
