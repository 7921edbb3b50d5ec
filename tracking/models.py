"""QR codes and scans, tracked links and clicks."""
