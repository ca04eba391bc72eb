create
-n
-q
../pass/overrides.cfg
uuid="6f7b6e2a-1b7c-4b4e-9b1e-0c3c0a5d7e11"
memory=512
name="Other"
vif=["bridge=xenbr1"]
