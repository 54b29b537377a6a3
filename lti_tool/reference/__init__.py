"""Reference data of the certification guidelines (Buku 1), shipped as CSV files."""
