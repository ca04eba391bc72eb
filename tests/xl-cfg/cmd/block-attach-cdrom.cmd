-N
block-attach
1
,,hdc:cdrom,r
