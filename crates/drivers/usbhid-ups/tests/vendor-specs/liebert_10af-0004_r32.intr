# ups.status of Debian NUT 2.8.0 usbhid-ups after start-up, then after each interrupt report
start OL CHRG
0c 00 -> OL CHRG
0c 05 -> OL CHRG
0c 06 -> OL CHRG
0c 04 -> OL CHRG
0c 0d -> OL CHRG
06 10 -> OL CHRG
