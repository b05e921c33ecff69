# ups.status of Debian NUT 2.8.0 usbhid-ups after start-up, then after each interrupt report
start OB DISCHRG CHRG
0a 00 00 -> OB
0a 01 00 -> OB CHRG
0a 06 00 -> OL DISCHRG
0a 04 00 -> OL
0a 14 00 -> OL LB
0a 1c 00 -> OL LB
0e 0e 10 -> OL LB
