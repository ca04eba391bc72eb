create
../pass/seed-domU.pv.cfg
