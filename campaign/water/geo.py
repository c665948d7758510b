"""WGS-84 ↔ GCJ-02, the shifted datum of Chinese web maps (AMap/Gaode tiles).

Positions are stored in WGS-84 (GPS); a point is shifted to GCJ-02 only to be drawn on GCJ-02
tiles, and a position picked on such tiles is shifted back before it is stored. The forward
transform is the published one (Krasovsky ellipsoid constants); the inverse has no closed form,
so it is solved by fixed-point iteration to well under a millimetre.
"""
from math import cos, pi, sin, sqrt

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323

# GCJ-02 applies only inside this box; outside it the two datums coincide.
CHINA_MIN_LON, CHINA_MAX_LON = 72.004, 137.8347
CHINA_MIN_LAT, CHINA_MAX_LAT = 0.8293, 55.8271

INVERSE_TOLERANCE_DEG = 1e-10  # ≈ 0.01 mm
INVERSE_MAX_STEPS = 30


def out_of_china(lat: float, lon: float) -> bool:
    return not (CHINA_MIN_LON <= lon <= CHINA_MAX_LON and CHINA_MIN_LAT <= lat <= CHINA_MAX_LAT)


def _shift_lat(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    value += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    value += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    value += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    return value


def _shift_lon(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    value += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    value += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    value += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    return value


def _offset(lat: float, lon: float) -> tuple[float, float]:
    d_lat = _shift_lat(lon - 105.0, lat - 35.0)
    d_lon = _shift_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * pi
    magic = 1 - KRASOVSKY_EE * sin(rad_lat) ** 2
    sqrt_magic = sqrt(magic)
    d_lat = (d_lat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * cos(rad_lat) * pi)
    return d_lat, d_lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _offset(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Solve wgs84_to_gcj02(w) == (lat, lon) for w by iteration (the one-step inverse is off by metres)."""
    if out_of_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(INVERSE_MAX_STEPS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if abs(e_lat) < INVERSE_TOLERANCE_DEG and abs(e_lon) < INVERSE_TOLERANCE_DEG:
            break
    return w_lat, w_lon
