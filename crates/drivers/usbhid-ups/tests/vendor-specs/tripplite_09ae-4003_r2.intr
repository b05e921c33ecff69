# ups.status of Debian NUT 2.8.0 usbhid-ups after start-up, then after each interrupt report
start OB DISCHRG RB BOOST
32 00 00 00 00 -> OB DISCHRG BOOST
32 00 00 01 00 -> OB DISCHRG BOOST
32 00 00 01 ff -> OB DISCHRG BOOST
32 00 02 00 10 -> OB DISCHRG LB BOOST
34 05 -> OB DISCHRG LB BOOST
