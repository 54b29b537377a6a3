"""PLPG laporan kemajuan: four progress reports per peserta, reviewed by the mentor."""
