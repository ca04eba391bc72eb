-N
block-attach
1
file:/iso/debian-8.1.0-amd64-netinst.iso,sdb,r
