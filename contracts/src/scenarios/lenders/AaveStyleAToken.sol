// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title AaveStyleAToken
/// @notice Deposit receipt of one AaveStyleLendingPool reserve, and the contract that HOLDS the
/// reserve's underlying (as Aave's aTokens do): flash-loaned funds leave from here, not from the
/// pool, and repayments are pulled straight back here. 1 aToken = 1 underlying at deposit and
/// withdrawal (no interest index); flash-loan premiums stay here as a surplus.
contract AaveStyleAToken is ERC20 {
    using SafeERC20 for IERC20;

    /// @notice The lending pool, the only account allowed to mint, burn and move underlying.
    address public immutable pool;
    /// @notice The reserve's underlying token.
    IERC20 public immutable underlying;

    error OnlyPool();

    modifier onlyPool() {
        if (msg.sender != pool) revert OnlyPool();
        _;
    }

    /// @param pool_ The lending pool (deployer).
    /// @param underlying_ The reserve's underlying token.
    /// @param name_ Receipt token name (e.g. "Aave-style USD").
    /// @param symbol_ Receipt token symbol (e.g. "aUSD").
    constructor(address pool_, IERC20 underlying_, string memory name_, string memory symbol_) ERC20(name_, symbol_) {
        pool = pool_;
        underlying = underlying_;
    }

    /// @notice Mints receipts for a deposit the pool has already moved here.
    function mint(address to, uint256 amount) external onlyPool {
        _mint(to, amount);
    }

    /// @notice Burns `from`'s receipts and sends the same amount of underlying to `receiver`.
    function burn(address from, address receiver, uint256 amount) external onlyPool {
        _burn(from, amount);
        underlying.safeTransfer(receiver, amount);
    }

    /// @notice Sends underlying to `to` without burning (the flash-loan leg).
    function transferUnderlyingTo(address to, uint256 amount) external onlyPool {
        underlying.safeTransfer(to, amount);
    }
}
