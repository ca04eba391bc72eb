-N
block-attach
1
target=/img/a.img
vdev=xvdz
access=r
