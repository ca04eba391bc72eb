-N
block-attach
1
format=qcow2, vdev=xvdb, access=rw, target=/disks/x.qcow2
