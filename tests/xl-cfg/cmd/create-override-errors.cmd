-N
create
../pass/seed-domU.pv.cfg
maxmem=128
vif=["mac=00:16:3e:12:34:56","mac=00:16:3e:12:34:56"]
disk+=["/img/c,,sda"]
