import BDSimCLI
import SimModels

// The command line with the models BDSim ships.
BDSimCLI.main(models: ShippedModels.all)
