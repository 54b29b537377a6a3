"""Evaluasi Penyelenggaraan: the programme evaluation questionnaire of Juknis Lampiran 1."""
