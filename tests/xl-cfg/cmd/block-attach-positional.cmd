-N
block-attach
1
/dev/vg/guest-volume,,hda
