create
../fail/bad-vdev.cfg
