"""The PyTorch port from the founding question (stackoverflow.com/questions/60079783).

Run it to count parameters and buffers: python examples/seed/torch_model.py
"""

import torch.nn as nn


# Image format: channels first (N, C, H, W) in PyTorch
class CustomModel(nn.Module):
    def __init__(self):
        super(CustomModel, self).__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=32, kernel_size=(3, 3), padding=1),
            nn.ReLU(True),
            nn.BatchNorm2d(num_features=32),
        )
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features=131072, out_features=100)
        self.fc2 = nn.Linear(in_features=100, out_features=10)

    def forward(self, x):
        output = self.layer1(x)
        output = self.flatten(output)
        output = self.fc1(output)
        output = self.fc2(output)
        return output


if __name__ == "__main__":
    model = CustomModel()
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    print(f"parameters: {parameters:,}  buffers: {buffers:,}")
