-N
block-attach
1
file:/disks/domU.img,sda,w
